import { describe, expect, it } from "vitest";
import { z } from "zod";
import { getConfig, getCurrentTaskInput, MemorySaver, START, StateGraph, StateSchema } from "./index.ts";

const State = new StateSchema({ n: z.number().default(0) });

describe("getConfig() and getCurrentTaskInput()", () => {
  it("give a node its config and its input, as LangGraph's do, and refuse outside a node", async () => {
    const seen: unknown[] = [];
    const graph = new StateGraph(State)
      .addNode("w", () => {
        const config = getConfig() as {
          configurable: { thread_id: string };
          metadata: { langgraph_node: string };
        };
        seen.push(config.configurable.thread_id, config.metadata.langgraph_node, getCurrentTaskInput());
        return {};
      })
      .addEdge(START, "w")
      .compile({ checkpointer: new MemorySaver() });
    await graph.invoke({ n: 7 }, { configurable: { thread_id: "get-config" } });
    expect(seen).toEqual(["get-config", "w", { n: 7 }]);
    expect(() => getConfig()).toThrow(expect.objectContaining({ code: "OUTSIDE_NODE" }));
  });
});
