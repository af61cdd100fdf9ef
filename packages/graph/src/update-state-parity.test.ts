// updateState as LangGraph.js 1.7.3's (its figures recorded from the same calls on its engine): on an
// entrypoint the values are what its only node returned — the thread's value and what the next run
// finds with getPreviousState() — and an update that makes a new thread is its step 0.
import { randomUUID } from "node:crypto";
import { describe, expect, it } from "vitest";
import {
  Annotation,
  entrypoint,
  getPreviousState,
  InvalidUpdateError,
  MemorySaver,
  START,
  StateGraph,
} from "./index.ts";

const thread = () => ({ configurable: { thread_id: randomUUID() } });

/** Adds its input to what the thread's last run kept, returns and keeps the sum. */
function summing() {
  return entrypoint({ name: "wf", checkpointer: new MemorySaver() }, async (n: number) => {
    const sum = (getPreviousState<number>() ?? 0) + n;
    return entrypoint.final({ value: sum, save: sum });
  });
}

describe("updateState on an entrypoint", () => {
  it("sets the thread's value, which the next run finds as its previous state", async () => {
    const wf = summing();
    const config = thread();
    expect(await wf.invoke(1, config)).toBe(1);
    await wf.updateState(config, 42);
    const state = await wf.getState(config);
    expect({
      values: state.values,
      next: state.next,
      source: state.metadata?.source,
      step: state.metadata?.step,
    }).toEqual({
      values: 42,
      next: [],
      source: "update",
      step: 1,
    });
    await wf.updateState(config, { a: 1 }); // any value: an object is not keys of a state
    expect((await wf.getState(config)).values).toEqual({ a: 1 });
    expect(await wf.invoke(2, config)).toBe("[object Object]2"); // LangGraph.js: the same
    await wf.updateState(config, 7, "wf"); // as its node, by name
    expect(await wf.invoke(3, config)).toBe(10);
  });

  it("takes entrypoint.final: the value shown, and another kept for the next run", async () => {
    const wf = summing();
    const config = thread();
    await wf.invoke(1, config);
    await wf.updateState(config, entrypoint.final({ value: 1, save: 100 }));
    expect((await wf.getState(config)).values).toBe(1);
    expect(await wf.invoke(5, config)).toBe(105);
  });

  it("makes a new thread's value at step 0, with nothing left to run", async () => {
    const wf = summing();
    const config = thread();
    await wf.updateState(config, 5);
    const state = await wf.getState(config);
    expect({ values: state.values, next: state.next, step: state.metadata?.step }).toEqual({
      values: 5,
      next: [],
      step: 0,
    });
    expect(await wf.invoke(null, config)).toBe(5);
  });

  it("refuses another node, START among them (not one of an entrypoint's), and writes nothing", async () => {
    const wf = summing();
    const config = thread();
    await wf.invoke(1, config);
    for (const asNode of ["nope", START])
      await expect(wf.updateState(config, 3, asNode)).rejects.toBeInstanceOf(InvalidUpdateError);
    expect(await wf.invoke(2, config)).toBe(3);
  });
});

describe("updateState on a new thread of a StateGraph", () => {
  it("is step 0, as a node or as the input", async () => {
    const State = Annotation.Root({ n: Annotation<number>() });
    const graph = new StateGraph(State)
      .addNode("a", (s: { n?: number }) => ({ n: (s.n ?? 0) + 1 }))
      .addEdge(START, "a")
      .compile({ checkpointer: new MemorySaver() });
    const asA = thread();
    await graph.updateState(asA, { n: 5 }, "a");
    const asInput = thread();
    await graph.updateState(asInput, { n: 5 });
    const [a, input] = [await graph.getState(asA), await graph.getState(asInput)];
    expect([a.next, a.metadata?.step, input.next, input.metadata?.step]).toEqual([[], 0, ["a"], 0]);
    expect(await graph.invoke(null, asInput)).toEqual({ n: 6 });
  });
});
