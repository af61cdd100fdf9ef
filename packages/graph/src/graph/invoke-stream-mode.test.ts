// invoke(input, { streamMode }) as LangGraph's: a mode other than "values" returns that stream's
// chunks, in a list. It returned the final state whatever the mode asked: another shape than the
// same program gets from LangGraph.
import { describe, expect, it } from "vitest";
import { Annotation, START, StateGraph } from "../index.ts";

const State = Annotation.Root({
  v: Annotation<string[]>({ reducer: (a, b) => a.concat(b), default: () => [] }),
});
const graph = new StateGraph(State)
  .addNode("a", () => ({ v: ["a"] }))
  .addNode("b", () => ({ v: ["b"] }))
  .addEdge(START, "a")
  .addEdge("a", "b")
  .compile();

describe("invoke with a streamMode", () => {
  it('returns the chunks of "updates", or of several modes, in a list', async () => {
    expect(await graph.invoke({ v: [] }, { streamMode: "updates" } as never)).toEqual([
      { a: { v: ["a"] } },
      { b: { v: ["b"] } },
    ]);
    // As LangGraph.js 1.7.3 gives them (compared in a script).
    expect(await graph.invoke({ v: [] }, { streamMode: ["values", "updates"] } as never)).toEqual([
      ["values", { v: [] }],
      ["updates", { a: { v: ["a"] } }],
      ["values", { v: ["a"] }],
      ["updates", { b: { v: ["b"] } }],
      ["values", { v: ["a", "b"] }],
    ]);
  });

  it('returns the final state for "values", as without one', async () => {
    expect(await graph.invoke({ v: [] }, { streamMode: "values" } as never)).toEqual({ v: ["a", "b"] });
    expect(await graph.invoke({ v: [] })).toEqual({ v: ["a", "b"] });
  });
});
