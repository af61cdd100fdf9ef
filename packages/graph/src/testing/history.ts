import type { CheckpointSaver } from "@layover/checkpoint";
import { describe, expect, it } from "vitest";
import { Command, interrupt, START, StateGraph, type StateSnapshot } from "../index.ts";
import {
  CallCounter,
  collect,
  LogState,
  linearGraph,
  threadConfig,
  type UseSaver,
  withSubgraphNode,
} from "./helpers.ts";

function idOf(snapshot: StateSnapshot | undefined): string | undefined {
  return snapshot?.config.configurable?.checkpoint_id;
}

/** Item 9: getState, getStateHistory, updateState forks, replay from an older checkpoint. */
export function describeHistory(use: UseSaver): void {
  describe("state history", () => {
    it("getState at an interrupt shows next and the tasks with their interrupts", () =>
      stateAtInterrupt(use()));
    it("lists checkpoints newest first, each with its parent's config", () => newestFirst(use()));
    it("honours limit and before", () => limitAndBefore(use()));
    it("getState reads an older checkpoint by checkpoint_id", () => olderState(use()));
  });
  describe("updateState and replay", () => {
    it("updateState at a breakpoint commits an update that the continued run sees", () =>
      updateAtHead(use()));
    it("updateState on an older checkpoint forks the thread from there", () => updateFork(use()));
    it("invoke(null, { checkpoint_id }) replays from an older checkpoint", () => replay(use()));
    it("a replay runs a subgraph node again rather than keeping its earlier result", () =>
      replaySubgraph(use()));
    it("a replay that reaches an interrupt leaves the thread paused there, resumable", () =>
      replayToInterrupt(use()));
    it("forks never change what the abandoned branch's checkpoints read", () => forksKeepHistory(use()));
  });
}

async function stateAtInterrupt(saver: CheckpointSaver): Promise<void> {
  const graph = new StateGraph(LogState)
    .addNode("ask", () => ({ log: interrupt("approve?") }))
    .addEdge(START, "ask")
    .compile({ checkpointer: saver });
  const config = threadConfig("get-state");
  const paused = await graph.invoke({ value: "v" }, config);
  const state = await graph.getState(config);
  expect(state.values).toEqual({ value: "v", log: [] });
  expect(state.next).toEqual(["ask"]);
  expect(state.tasks).toEqual([
    {
      id: expect.any(String),
      name: "ask",
      interrupts: [{ id: paused.__interrupt__?.[0]?.id, value: "approve?" }],
    },
  ]);
  expect(state.config.configurable?.thread_id).toBe(config.configurable.thread_id);
  expect(state.metadata).toMatchObject({ source: "input", step: -1 });
  await graph.invoke(new Command({ resume: "yes" }), config);
  expect(await graph.getState(config)).toMatchObject({ next: [], tasks: [], values: { log: ["yes"] } });
}

async function newestFirst(saver: CheckpointSaver): Promise<void> {
  const graph = linearGraph(saver, new CallCounter());
  const config = threadConfig("history");
  await graph.invoke({ value: "v" }, config);
  const history = await collect(graph.getStateHistory(config));
  expect(history.map((snapshot) => snapshot.metadata?.step)).toEqual([2, 1, 0, -1]);
  expect(history.map((snapshot) => snapshot.next)).toEqual([[], ["c"], ["b"], ["a"]]);
  for (let i = 0; i < history.length - 1; i++) {
    expect(history[i]?.parentConfig?.configurable?.checkpoint_id).toBe(idOf(history[i + 1]));
  }
  expect(history.at(-1)?.parentConfig).toBeUndefined();
  expect(await graph.getState(config)).toEqual(history[0]);
}

async function limitAndBefore(saver: CheckpointSaver): Promise<void> {
  const graph = linearGraph(saver, new CallCounter());
  const config = threadConfig("history-page");
  await graph.invoke({ value: "v" }, config);
  const all = await collect(graph.getStateHistory(config));
  const firstTwo = await collect(graph.getStateHistory(config, { limit: 2 }));
  expect(firstTwo.map(idOf)).toEqual(all.slice(0, 2).map(idOf));
  const older = await collect(graph.getStateHistory(config, { before: all[1]?.config ?? config, limit: 1 }));
  expect(older.map(idOf)).toEqual([idOf(all[2])]);
}

async function olderState(saver: CheckpointSaver): Promise<void> {
  const graph = linearGraph(saver, new CallCounter());
  const config = threadConfig("get-old");
  await graph.invoke({ value: "v" }, config);
  const history = await collect(graph.getStateHistory(config));
  const old = await graph.getState(history[2]?.config ?? config);
  expect(old.values.log).toEqual(["a(v)"]);
  expect(old.next).toEqual(["b"]);
}

async function updateAtHead(saver: CheckpointSaver): Promise<void> {
  const calls = new CallCounter();
  const graph = new StateGraph(LogState)
    .addNode("a", () => {
      calls.hit("a");
      return { log: "a" };
    })
    .addNode("b", (state) => ({ log: `b(${state.value})` }))
    .addEdge(START, "a")
    .addEdge("a", "b")
    .compile({ checkpointer: saver, interruptBefore: ["b"] });
  const config = threadConfig("update");
  await graph.invoke({ value: "v" }, config);
  await graph.updateState(config, { value: "patched", log: "human" }, "a");
  const state = await graph.getState(config);
  expect(state.metadata).toMatchObject({
    source: "update",
    writes: { a: { value: "patched", log: "human" } },
  });
  expect(state.next).toEqual(["b"]);
  expect(state.values).toEqual({ value: "patched", log: ["a", "human"] });
  expect((await graph.invoke(null, config)).log).toEqual(["a", "human", "b(patched)"]);
  expect(calls.of("a")).toBe(1);
}

async function updateFork(saver: CheckpointSaver): Promise<void> {
  const calls = new CallCounter();
  const graph = linearGraph(saver, calls);
  const config = threadConfig("fork");
  await graph.invoke({ value: "v" }, config);
  const afterA = (await collect(graph.getStateHistory(config)))[2];
  const forked = await graph.updateState(afterA?.config ?? config, { value: "w" }, "a");
  const head = await graph.getState(config);
  expect(idOf(head)).toBe(forked.configurable?.checkpoint_id);
  expect(head.parentConfig?.configurable?.checkpoint_id).toBe(idOf(afterA));
  expect(head.metadata?.source).toBe("fork");
  expect(head.next).toEqual(["b"]);
  const done = await graph.invoke(null, config);
  expect(done).toEqual({ value: "w", log: ["a(v)", "b(w)", "c(w)"] });
  expect([calls.of("a"), calls.of("b"), calls.of("c")]).toEqual([1, 2, 2]);
}

async function replay(saver: CheckpointSaver): Promise<void> {
  const calls = new CallCounter();
  const graph = linearGraph(saver, calls);
  const config = threadConfig("replay");
  await graph.invoke({ value: "v" }, config);
  const history = await collect(graph.getStateHistory(config));
  const afterA = history[2];
  const replayed = await graph.invoke(null, {
    configurable: { thread_id: config.configurable.thread_id, checkpoint_id: idOf(afterA) as string },
  });
  expect(replayed.log).toEqual(["a(v)", "b(v)", "c(v)"]);
  expect([calls.of("a"), calls.of("b"), calls.of("c")]).toEqual([1, 2, 2]);
  const newHistory = await collect(graph.getStateHistory(config));
  expect(newHistory.slice(0, 3).map((snapshot) => snapshot.metadata?.source)).toEqual([
    "loop",
    "loop",
    "fork",
  ]);
  expect(newHistory[2]?.parentConfig?.configurable?.checkpoint_id).toBe(idOf(afterA));
  expect(newHistory[2]?.values).toEqual(afterA?.values);
  expect(newHistory.slice(3).map(idOf)).toEqual(history.map(idOf));
  expect(idOf(await graph.getState(config))).toBe(idOf(newHistory[0]));
}

async function replaySubgraph(saver: CheckpointSaver): Promise<void> {
  const calls = new CallCounter();
  const subgraph = new StateGraph(LogState)
    .addNode("inner", () => ({ log: `inner run ${calls.hit("inner")}` }))
    .addEdge(START, "inner")
    .compile();
  const graph = withSubgraphNode(saver, subgraph);
  const config = threadConfig("replay-subgraph");
  expect((await graph.invoke({ value: "v" }, config)).log).toEqual(["inner run 1"]);
  const beforeSub = (await collect(graph.getStateHistory(config))).find(
    (snapshot) => snapshot.next[0] === "sub",
  );
  const replayed = await graph.invoke(null, {
    configurable: { ...config.configurable, checkpoint_id: idOf(beforeSub) as string },
  });
  expect(replayed.log).toEqual(["inner run 2"]);
}

async function replayToInterrupt(saver: CheckpointSaver): Promise<void> {
  const graph = new StateGraph(LogState)
    .addNode("a", () => ({ log: "a" }))
    .addNode("ask", () => ({ log: `answer ${interrupt("answer?")}` }))
    .addEdge(START, "a")
    .addEdge("a", "ask")
    .compile({ checkpointer: saver });
  const config = threadConfig("replay-interrupt");
  await graph.invoke({ value: "v" }, config);
  await graph.invoke(new Command({ resume: "first" }), config);
  const history = await collect(graph.getStateHistory(config));
  const beforeAsk = history.find((snapshot) => snapshot.next[0] === "ask");
  const replayConfig = { configurable: { ...config.configurable, checkpoint_id: idOf(beforeAsk) as string } };
  const paused = await graph.invoke(null, replayConfig);
  expect(paused.__interrupt__?.map((record) => record.value)).toEqual(["answer?"]);
  const state = await graph.getState(config);
  expect(state.next).toEqual(["ask"]);
  expect(state.values.log).toEqual(["a"]);
  const done = await graph.invoke(new Command({ resume: "second" }), config);
  expect(done.log).toEqual(["a", "answer second"]);
}

async function forksKeepHistory(saver: CheckpointSaver): Promise<void> {
  const config = threadConfig("forks");
  const thread = { thread_id: config.configurable.thread_id };
  await linearGraph(saver, new CallCounter()).invoke({ value: "v" }, config);
  const original = await collect(linearGraph(saver, new CallCounter()).getStateHistory(config));
  // Two forks from older checkpoints, each continued to the end, each by a graph that loads the
  // thread afresh from the saver (as a worker in another process would).
  for (const [index, value] of [
    [2, "w"],
    [3, "x"],
  ] as const) {
    const graph = linearGraph(saver, new CallCounter());
    const fork = await graph.updateState(
      { configurable: { ...thread, checkpoint_id: idOf(original[index]) as string } },
      { value },
    );
    await linearGraph(saver, new CallCounter()).invoke(null, fork);
  }
  const graph = linearGraph(saver, new CallCounter());
  for (const snapshot of original) {
    const again = await graph.getState({
      configurable: { ...thread, checkpoint_id: idOf(snapshot) as string },
    });
    expect(again.values).toEqual(snapshot.values);
  }
  expect((await graph.getState(config)).values).toMatchObject({ value: "x" });
}
