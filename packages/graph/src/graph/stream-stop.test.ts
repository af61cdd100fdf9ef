// A reader that stops reading a stream (a `break` out of `for await`, a `return()`) stops its
// run, as LangGraph's does: a "stop generating" button or a dropped connection must not leave
// nodes calling models and tools in the background. The run stops after the superstep in flight
// (kept, as an abort's), so the thread can go on from there.
import { randomUUID } from "node:crypto";
import { describe, expect, it } from "vitest";
import { Annotation, END, MemorySaver, START, StateGraph } from "../index.ts";

const State = Annotation.Root({
  n: Annotation<number>({ reducer: (a, b) => a + b, default: () => 0 }),
});

/** A node that loops eight times, counting its runs, each taking a few milliseconds. */
function looping() {
  const ran = { count: 0, signals: [] as (AbortSignal | undefined)[] };
  const graph = new StateGraph(State)
    .addNode("a", async (_state, config) => {
      ran.signals.push(config.signal);
      await new Promise((resolve) => setTimeout(resolve, 20));
      ran.count += 1;
      return { n: 1 };
    })
    .addEdge(START, "a")
    .addConditionalEdges("a", (state) => (state.n >= 8 ? END : "a"))
    .compile({ checkpointer: new MemorySaver() });
  return { graph, ran };
}

const settle = () => new Promise((resolve) => setTimeout(resolve, 200));

describe("a stream whose reader stops", () => {
  it("stops its run after the superstep in flight; the thread goes on from there", async () => {
    const { graph, ran } = looping();
    const config = { configurable: { thread_id: randomUUID() } };
    for await (const _chunk of await graph.stream({ n: 0 }, { ...config, streamMode: "updates" })) break;
    await settle();
    expect(ran.count).toBeLessThanOrEqual(2);
    const state = await graph.getState(config);
    expect(state.next).toEqual(["a"]);
    expect(state.values.n).toBe(ran.count);
    // Nodes saw the stop as an abort of their signal.
    expect(ran.signals[ran.signals.length - 1]?.aborted).toBe(true);
    expect(await graph.invoke(null, config)).toEqual({ n: 8 });
  });

  it("also when the caller gave a signal of its own, which stays unaborted", async () => {
    const { graph, ran } = looping();
    const controller = new AbortController();
    const config = { configurable: { thread_id: randomUUID() }, signal: controller.signal };
    const stream = await graph.stream({ n: 0 }, config);
    await stream.next();
    await stream.return?.(undefined);
    await settle();
    expect(ran.count).toBeLessThanOrEqual(2);
    expect(controller.signal.aborted).toBe(false);
  });

  it("streamEvents: a reader that stops stops the run too", async () => {
    const { graph, ran } = looping();
    const config = { configurable: { thread_id: randomUUID() }, version: "v2" as const };
    for await (const event of graph.streamEvents({ n: 0 }, config)) if (event.event === "on_chain_end") break;
    await settle();
    expect(ran.count).toBeLessThanOrEqual(2);
    expect((await graph.getState(config)).next).toEqual(["a"]);
  });

  it("a stream read to its end is not stopped: the run ends as invoke's", async () => {
    const { graph, ran } = looping();
    const config = { configurable: { thread_id: randomUUID() }, streamMode: "values" as const };
    const chunks = [];
    for await (const chunk of await graph.stream({ n: 0 }, config)) chunks.push(chunk);
    expect(chunks.at(-1)).toEqual({ n: 8 });
    expect(ran.count).toBe(8);
    expect(ran.signals.every((signal) => signal === undefined || !signal.aborted)).toBe(true);
  });
});

describe("a stream returned before its first read", () => {
  it("stops its run too", async () => {
    const { graph, ran } = looping();
    const config = { configurable: { thread_id: randomUUID() } };
    const stream = await graph.stream({ n: 0 }, config);
    await stream.return?.(undefined);
    await settle();
    expect(ran.count).toBeLessThanOrEqual(1);
    expect(await graph.invoke(null, config)).toEqual({ n: 8 });
  });
});
