// LangGraph.js 1.7.3's `writer(chunk)` (the running node's custom stream) and
// `isUnknownInterruptError`, so code that imports them ports by changing the import.
import { describe, expect, it } from "vitest";
import {
  Command,
  interrupt,
  isUnknownInterruptError,
  MemorySaver,
  MessagesAnnotation,
  START,
  StateGraph,
  writer,
} from "./index.ts";

describe("writer", () => {
  it("sends a chunk to the running node's custom stream, and nowhere when the run does not stream it", async () => {
    const graph = new StateGraph(MessagesAnnotation)
      .addNode("n", () => {
        writer({ progress: 50 });
        writer("done");
        return {};
      })
      .addEdge(START, "n")
      .compile();
    const chunks: unknown[] = [];
    for await (const chunk of await graph.stream({ messages: [] }, { streamMode: "custom" }))
      chunks.push(chunk);
    expect(chunks).toEqual([{ progress: 50 }, "done"]);
    await expect(graph.invoke({ messages: [] })).resolves.toEqual({ messages: [] });
  });

  it("is refused outside a node", () => {
    expect(() => writer("x")).toThrow(/writer\(\)/);
  });
});

describe("isUnknownInterruptError", () => {
  it("tells a resume of an interrupt id that is not pending", async () => {
    const graph = new StateGraph(MessagesAnnotation)
      .addNode("ask", () => {
        interrupt("approve?");
        return {};
      })
      .addEdge(START, "ask")
      .compile({ checkpointer: new MemorySaver() });
    const config = { configurable: { thread_id: "t" } };
    await graph.invoke({ messages: [] }, config);
    const unknownId = "00000000-0000-5000-a000-000000000000";
    const error = await graph.invoke(new Command({ resume: { [unknownId]: "yes" } }), config).catch((e) => e);
    expect(isUnknownInterruptError(error)).toBe(true);
    expect(isUnknownInterruptError(new Error("other"))).toBe(false);
  });
});
