// LangChain's dispatchCustomEvent in a node, or in a tool a node calls, reaches streamEvents as
// `on_custom_event` and callbacks' handleCustomEvent, as LangGraph.js 1.7.3 gives them (recorded
// with @langchain/core 1.4.0 running the same graph, 2026-12-07). Before, they were dropped
// without a word: the node's callbacks had no run for LangChain to dispatch under.
import { dispatchCustomEvent } from "@langchain/core/callbacks/dispatch";
import { tool } from "@langchain/core/tools";
import { describe, expect, it } from "vitest";
import { z } from "zod";
import { Annotation, END, START, StateGraph, type StreamEvent } from "./index.ts";

const lookup = tool(
  async ({ q }) => {
    await dispatchCustomEvent("tool_progress", { q });
    return "ok";
  },
  { name: "lookup", description: "Looks a flight up", schema: z.object({ q: z.string() }) },
);

function graph() {
  const State = Annotation.Root({ v: Annotation<number>() });
  return new StateGraph(State)
    .addNode("a", async (_state, config) => {
      await dispatchCustomEvent("implicit", { n: 1 });
      await dispatchCustomEvent("explicit", { n: 2 }, config as never);
      await lookup.invoke({ q: "LHR" });
      return { v: 1 };
    })
    .addEdge(START, "a")
    .addEdge("a", END)
    .compile();
}

async function events(filters?: Record<string, string[]>): Promise<StreamEvent[]> {
  const all: StreamEvent[] = [];
  for await (const event of graph().streamEvents({ v: 0 }, { version: "v2" }, filters)) all.push(event);
  return all;
}

const line = (e: StreamEvent) => `${e.event}:${e.name}`;

describe("dispatchCustomEvent", () => {
  it("streams on_custom_event under the node's run, or the tool's, in order", async () => {
    const all = await events();
    expect(all.map(line)).toEqual([
      "on_chain_start:LangGraph",
      "on_chain_start:a",
      "on_custom_event:implicit",
      "on_custom_event:explicit",
      "on_tool_start:lookup",
      "on_custom_event:tool_progress",
      "on_tool_end:lookup",
      "on_chain_stream:LangGraph",
      "on_chain_end:a",
      "on_chain_end:LangGraph",
    ]);
    const graphRun = all[0]?.run_id;
    const node = all.find((e) => e.event === "on_chain_start" && e.name === "a");
    const toolStart = all.find((e) => e.event === "on_tool_start");
    const [implicit, explicit, inTool] = all.filter((e) => e.event === "on_custom_event");
    expect(implicit).toEqual({
      event: "on_custom_event",
      name: "implicit",
      run_id: node?.run_id,
      // The node's (Layover's step numbers are one lower than LangGraph's: "graph:step:0").
      tags: node?.tags,
      metadata: node?.metadata,
      data: { n: 1 },
      parent_ids: [graphRun],
    });
    expect(explicit).toMatchObject({ run_id: node?.run_id, data: { n: 2 } });
    expect(inTool).toMatchObject({
      run_id: toolStart?.run_id,
      tags: [],
      metadata: expect.objectContaining({ langgraph_node: "a" }),
      data: { q: "LHR" },
      parent_ids: [graphRun, node?.run_id],
    });
  });

  it("is filtered by the run it is under (its name, type and tags), not by its own name", async () => {
    expect((await events({ includeNames: ["implicit"] })).map(line)).toEqual([]);
    expect((await events({ includeNames: ["a"] })).map(line)).toEqual([
      "on_chain_start:a",
      "on_custom_event:implicit",
      "on_custom_event:explicit",
      "on_chain_end:a",
    ]);
    expect((await events({ includeTypes: ["tool"] })).map(line)).toEqual([
      "on_tool_start:lookup",
      "on_custom_event:tool_progress",
      "on_tool_end:lookup",
    ]);
  });

  it("reaches the call's callbacks, under the node's task, and is harmless with none", async () => {
    const seen: Array<{ name: string; data: unknown; runId: string; node: unknown }> = [];
    const handler = {
      handleCustomEvent(
        name: string,
        data: unknown,
        runId: string,
        _tags?: string[],
        metadata?: Record<string, unknown>,
      ) {
        seen.push({ name, data, runId, node: metadata?.langgraph_node });
      },
    };
    await graph().invoke({ v: 0 }, { callbacks: [handler] });
    expect(seen.map(({ name, data, node }) => ({ name, data, node }))).toEqual([
      { name: "implicit", data: { n: 1 }, node: "a" },
      { name: "explicit", data: { n: 2 }, node: "a" },
      { name: "tool_progress", data: { q: "LHR" }, node: "a" },
    ]);
    expect(seen[0]?.runId).toBe(seen[1]?.runId);
    expect(await graph().invoke({ v: 0 })).toEqual({ v: 1 });
  });
});
