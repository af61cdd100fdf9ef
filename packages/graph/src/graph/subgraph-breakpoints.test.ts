// A subgraph's own static breakpoints. It ran straight through them, so a review gate inside a
// subgraph (a sub-agent compiled with interruptBefore: ["tools"]) passed unreviewed; they are
// refused now, naming what pauses instead: the parent's breakpoint on the subgraph's node.
import { describe, expect, it } from "vitest";
import { Annotation, MemorySaver, START, StateGraph } from "../index.ts";

const State = Annotation.Root({
  v: Annotation<string[]>({ reducer: (a, b) => a.concat(b), default: () => [] }),
});

const sub = (options: { interruptBefore?: string[]; interruptAfter?: string[] } = {}) =>
  new StateGraph(State)
    .addNode("s1", () => ({ v: ["s1"] }))
    .addNode("s2", () => ({ v: ["s2"] }))
    .addEdge(START, "s1")
    .addEdge("s1", "s2")
    .compile(options);

const config = (thread: string) => ({ configurable: { thread_id: thread } });

describe("a subgraph's own breakpoints", () => {
  it("are refused, as a node or called inside one, rather than run through", async () => {
    for (const guarded of [sub({ interruptBefore: ["s2"] }), sub({ interruptAfter: ["s1"] })]) {
      const asNode = new StateGraph(State)
        .addNode("sub", guarded)
        .addEdge(START, "sub")
        .compile({ checkpointer: new MemorySaver() });
      const inNode = new StateGraph(State)
        .addNode("call", (s, c) => guarded.invoke(s, c))
        .addEdge(START, "call")
        .compile({ checkpointer: new MemorySaver() });
      for (const graph of [asNode, inNode])
        await expect(graph.invoke({ v: [] }, config("t"))).rejects.toMatchObject({
          code: "INVALID_GRAPH",
          message: expect.stringContaining("Put the breakpoint on the parent"),
        });
    }
  });

  it("on the parent, naming the subgraph's node, pause before the whole subgraph", async () => {
    const graph = new StateGraph(State)
      .addNode("sub", sub())
      .addEdge(START, "sub")
      .compile({ checkpointer: new MemorySaver(), interruptBefore: ["sub"] });
    expect(await graph.invoke({ v: [] }, config("p"))).toEqual({ v: [], __interrupt__: [] });
    expect(await graph.invoke(null, config("p"))).toEqual({ v: ["s1", "s2"] });
  });
});
