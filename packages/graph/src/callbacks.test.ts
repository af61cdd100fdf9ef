// Callbacks given to invoke/stream reach every node's model and tool calls, as LangGraph's do
// (LangGraph.js 1.7.3 passes config.callbacks on to nodes, and to subgraphs' nodes).
import { CallbackManager } from "@langchain/core/callbacks/manager";
import { FakeListChatModel } from "@langchain/core/utils/testing";
import { describe, expect, it } from "vitest";
import { END, MessagesAnnotation, START, StateGraph } from "./index.ts";

/** A handler as an application writes one: counts what models answered, and in which node. */
function tally() {
  const ends: string[] = [];
  const tokens: string[] = [];
  const handler = {
    name: "tally",
    handleLLMEnd(
      output: { generations: { text: string }[][] },
      _runId: string,
      _parent?: string,
      tags?: string[],
    ) {
      ends.push(`${output.generations[0]?.[0]?.text}${tags?.includes("inner") ? " (inner)" : ""}`);
    },
    handleLLMNewToken(token: string) {
      tokens.push(token);
    },
  };
  return { handler, ends, tokens };
}

function graphWithSubgraph() {
  const model = new FakeListChatModel({ responses: ["hello"] });
  const inner = new FakeListChatModel({ responses: ["deep"], tags: ["inner"] });
  const sub = new StateGraph(MessagesAnnotation)
    .addNode("innerNode", async (s) => ({ messages: [await inner.invoke(s.messages)] }))
    .addEdge(START, "innerNode")
    .compile();
  return new StateGraph(MessagesAnnotation)
    .addNode("chat", async (s) => ({ messages: [await model.invoke(s.messages)] }))
    .addNode("nested", async (s) => ({ messages: (await sub.invoke(s)).messages.slice(-1) }))
    .addEdge(START, "chat")
    .addEdge("chat", "nested")
    .addEdge("nested", END)
    .compile();
}

describe("config.callbacks", () => {
  it("reach the models nodes call, with or without the node's config, in subgraphs too", async () => {
    const { handler, ends, tokens } = tally();
    const input = { messages: [{ role: "user", content: "hi" }] };
    await graphWithSubgraph().invoke(input, { callbacks: [handler] });
    expect(ends).toEqual(["hello", "deep (inner)"]);
    expect(tokens).toEqual([]); // nothing asked the models to stream

    // A CallbackManager is taken as LangGraph takes one; a "messages" stream beside it streams the models.
    const second = tally();
    const manager = new CallbackManager();
    manager.addHandler(second.handler as never);
    const parts: unknown[] = [];
    for await (const part of await graphWithSubgraph().stream(input, {
      callbacks: manager,
      streamMode: "messages",
    }))
      parts.push(part);
    expect(second.ends).toEqual(["hello", "deep (inner)"]);
    expect(second.tokens.join("")).toBe("hellodeep");
    expect(parts.length).toBeGreaterThan(0);
  });

  it("refuses callbacks that are not handlers, before anything runs", async () => {
    const { handler, ends } = tally();
    const graph = graphWithSubgraph();
    for (const callbacks of ["log", [handler, 3], { handlers: "all" }])
      await expect(graph.invoke({ messages: [] }, { callbacks })).rejects.toMatchObject({
        code: "INVALID_INPUT",
        message: expect.stringContaining("config.callbacks"),
      });
    expect(ends).toEqual([]);
  });
});
