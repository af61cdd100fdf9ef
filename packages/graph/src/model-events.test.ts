// streamEvents' events of the chat models and tools nodes call, as LangGraph.js 1.7.3 gives them
// (recorded from LangGraph.js 1.7.3 with @langchain/core 1.4.0 running the same graph, 2026-12-06).
import { AIMessageChunk, ToolMessage } from "@langchain/core/messages";
import { tool } from "@langchain/core/tools";
import { FakeListChatModel } from "@langchain/core/utils/testing";
import { describe, expect, it } from "vitest";
import { z } from "zod";
import { END, MemorySaver, MessagesAnnotation, START, StateGraph, type StreamEvent } from "./index.ts";

const add = tool(({ a, b }) => `${a + b}`, {
  name: "add",
  description: "Add two numbers",
  schema: z.object({ a: z.number(), b: z.number() }),
});
const broken = tool(
  (): string => {
    throw new Error("the service is down");
  },
  { name: "broken", description: "Fails", schema: z.object({}) },
);

function agent() {
  const model = new FakeListChatModel({ responses: ["Hi"] });
  return new StateGraph(MessagesAnnotation)
    .addNode("chat", async (state) => ({ messages: [await model.invoke(state.messages)] }))
    .addNode("tools", async () => ({
      messages: [await add.invoke({ name: "add", args: { a: 1, b: 2 }, id: "call1", type: "tool_call" })],
    }))
    .addNode("plain", async (_state, config) => ({
      messages: [{ role: "ai", content: String(await add.invoke({ a: 3, b: 4 }, config as never)) }],
    }))
    .addEdge(START, "chat")
    .addEdge("chat", "tools")
    .addEdge("tools", "plain")
    .addEdge("plain", END)
    .compile({ checkpointer: new MemorySaver() });
}

async function events(stream: AsyncIterable<StreamEvent>): Promise<StreamEvent[]> {
  const all: StreamEvent[] = [];
  for await (const event of stream) all.push(event);
  return all;
}

describe("streamEvents: chat models and tools called in nodes", () => {
  it("gives each model call's start, tokens and end, and each tool call's start and end, inside their node's", async () => {
    const all = await events(
      agent().streamEvents(
        { messages: [{ role: "user", content: "hey", id: "u1" }] },
        { version: "v2", configurable: { thread_id: "t" } },
      ),
    );
    const calls = all.filter((e) => !e.event.startsWith("on_chain"));
    expect(all.filter((e) => e.event !== "on_chain_stream").map((e) => `${e.event} ${e.name}`)).toEqual([
      "on_chain_start LangGraph",
      "on_chain_start chat",
      "on_chat_model_start FakeListChatModel",
      "on_chat_model_stream FakeListChatModel",
      "on_chat_model_stream FakeListChatModel",
      "on_chat_model_end FakeListChatModel",
      "on_chain_end chat",
      "on_chain_start tools",
      "on_tool_start add",
      "on_tool_end add",
      "on_chain_end tools",
      "on_chain_start plain",
      "on_tool_start add",
      "on_tool_end add",
      "on_chain_end plain",
      "on_chain_end LangGraph",
    ]);
    const [start, h, i, end, toolStart, toolEnd, , plainEnd] = calls as StreamEvent[];
    const chat = all.find((e) => e.event === "on_chain_start" && e.name === "chat") as StreamEvent;
    const graph = all[0] as StreamEvent;
    expect(start?.data.input).toMatchObject({ messages: [[{ content: "hey", id: "u1" }]] });
    expect(start?.metadata).toMatchObject({
      ls_integration: "langchain_chat_model",
      ls_provider: "FakeListChatModel",
      thread_id: "t",
      langgraph_node: "chat",
      langgraph_checkpoint_ns: chat.metadata.langgraph_checkpoint_ns,
    });
    expect(start?.tags).toEqual([]);
    expect(start?.parent_ids).toEqual([graph.run_id, chat.run_id]);
    expect([h, i].map((e) => (e?.data.chunk as AIMessageChunk | undefined)?.content)).toEqual(["H", "i"]);
    expect(h?.data.chunk).toBeInstanceOf(AIMessageChunk);
    expect(new Set([start, h, i, end].map((e) => e?.run_id)).size).toBe(1);
    expect(end?.data).toMatchObject({ output: { content: "Hi" }, input: start?.data.input });
    // A tool call: its arguments in, the ToolMessage out; metadata of the node it ran in.
    expect(toolStart?.data).toEqual({ input: { a: 1, b: 2 } });
    expect(toolStart?.metadata).toMatchObject({ ls_integration: "langgraph", langgraph_node: "tools" });
    expect(toolEnd?.data.output).toBeInstanceOf(ToolMessage);
    expect(toolEnd?.data.output).toMatchObject({ content: "3", tool_call_id: "call1", name: "add" });
    expect(plainEnd?.data).toEqual({ output: "7", input: { a: 3, b: 4 } });
  });

  it("gives the model calls of a subgraph's nodes, with the subgraph node's metadata", async () => {
    const inner = new FakeListChatModel({ responses: ["deep"] });
    const sub = new StateGraph(MessagesAnnotation)
      .addNode("innerNode", async (s) => ({ messages: [await inner.invoke(s.messages)] }))
      .addEdge(START, "innerNode")
      .compile();
    const graph = new StateGraph(MessagesAnnotation)
      .addNode("nested", async (s) => ({ messages: (await sub.invoke(s)).messages.slice(-1) }))
      .addEdge(START, "nested")
      .compile();
    const all = await events(
      graph.streamEvents({ messages: [{ role: "user", content: "hi" }] }, { version: "v2" }),
    );
    const model = all.filter((e) => e.event.startsWith("on_chat_model"));
    expect(model.map((e) => e.event)).toEqual([
      "on_chat_model_start",
      ...Array<string>(4).fill("on_chat_model_stream"),
      "on_chat_model_end",
    ]);
    const nested = all.find((e) => e.event === "on_chain_start" && e.name === "nested") as StreamEvent;
    expect(model[0]?.metadata).toMatchObject({ langgraph_node: "innerNode" });
    expect(String(model[0]?.metadata.langgraph_checkpoint_ns)).toMatch(
      new RegExp(`^${nested.metadata.langgraph_checkpoint_ns}\\|innerNode:`),
    );
  });

  it("gives a failing tool's error, and nothing of models when no events are streamed", async () => {
    const graph = new StateGraph(MessagesAnnotation)
      .addNode("tools", async () => {
        try {
          await broken.invoke({});
        } catch {
          // The node carries on without the tool.
        }
        return { messages: [{ role: "ai", content: "sorry" }] };
      })
      .addEdge(START, "tools")
      .compile();
    const all = await events(graph.streamEvents({ messages: [] }, { version: "v2" }));
    const failed = all.find((e) => e.event === "on_tool_error");
    expect(failed).toMatchObject({
      name: "broken",
      data: { input: {}, error: expect.stringContaining("the service is down") },
    });
    const seen: unknown[] = [];
    const plain = new StateGraph(MessagesAnnotation)
      .addNode("a", (_s, config) => {
        seen.push(config.callbacks);
        return {};
      })
      .addEdge(START, "a")
      .compile();
    await plain.invoke({ messages: [] });
    expect(seen).toEqual([undefined]);
  });

  it("carries no thread_id the caller did not give (LangGraph's has none; Layover's run key is its own)", async () => {
    const seen: unknown[] = [];
    const graph = new StateGraph(MessagesAnnotation)
      .addNode("tools", async (_state, config) => {
        seen.push(config.metadata?.thread_id);
        await add.invoke({ a: 1, b: 2 });
        return {};
      })
      .addEdge(START, "tools")
      .compile();
    const all = await events(graph.streamEvents({ messages: [] }, { version: "v2" }));
    const started = all.find((e) => e.event === "on_tool_start");
    expect(started?.metadata).toMatchObject({ langgraph_node: "tools" });
    expect(started?.metadata).not.toHaveProperty("thread_id");
    await graph.invoke({ messages: [] }, { configurable: { thread_id: "given" } });
    expect(seen).toEqual([undefined, "given"]);
  });
});
