// A subgraph runs under its caller's recursionLimit, as LangGraph's: an agent loop inside a
// subgraph (a ReAct sub-agent under a supervisor) failed after 25 supersteps however far the
// caller raised the limit, and went on for 25 when the caller lowered it.
import { describe, expect, it } from "vitest";
import { Annotation, END, START, StateGraph } from "../index.ts";

const State = Annotation.Root({ n: Annotation<number>({ reducer: (a, b) => a + b, default: () => 0 }) });

/** A subgraph that loops until `n` reaches `to`. */
const looping = (to: number) =>
  new StateGraph(State)
    .addNode("step", () => ({ n: 1 }))
    .addEdge(START, "step")
    .addConditionalEdges("step", (s) => (s.n < to ? "step" : END), ["step", END])
    .compile();

const parents = (to: number) => {
  const sub = looping(to);
  return {
    asNode: new StateGraph(State).addNode("sub", sub).addEdge(START, "sub").compile(),
    inNode: new StateGraph(State)
      .addNode("call", (s, config) => sub.invoke({ n: s.n }, config))
      .addEdge(START, "call")
      .compile(),
  };
};

describe("a subgraph's recursion limit", () => {
  it("is its caller's when raised", async () => {
    for (const graph of Object.values(parents(40)))
      expect(await graph.invoke({ n: 0 }, { recursionLimit: 100 })).toEqual({ n: 40 });
  });

  it("is its caller's when lowered", async () => {
    for (const graph of Object.values(parents(20)))
      await expect(graph.invoke({ n: 0 }, { recursionLimit: 6 })).rejects.toMatchObject({
        code: "RECURSION_LIMIT",
      });
  });

  it("reaches the node's config, as LangGraph's", async () => {
    let seen: number | undefined;
    const graph = new StateGraph(State)
      .addNode("look", (_s, config) => {
        seen = config.recursionLimit;
        return {};
      })
      .addEdge(START, "look")
      .compile();
    await graph.invoke({ n: 0 }, { recursionLimit: 77 });
    expect(seen).toBe(77);
    await graph.invoke({ n: 0 });
    expect(seen).toBe(25);
  });
});
