import type { CheckpointSaver } from "@layover/checkpoint";
import { describe, expect, it } from "vitest";
import {
  Annotation,
  Command,
  END,
  interrupt,
  START,
  StateGraph,
  type StateSnapshot,
  type Stepper,
} from "../index.ts";
import {
  CallCounter,
  collect,
  expectCode,
  LogState,
  linearGraph,
  stepToEnd,
  threadConfig,
  type UseSaver,
} from "./helpers.ts";

/** `items` appends, except that the write "reset" empties it: a list that does not only grow. */
export const ItemsState = Annotation.Root({
  items: Annotation<string[], string>({
    reducer: (left, right) => (right === "reset" ? [] : left.concat(right)),
    default: () => [],
  }),
  other: Annotation<string[], string>({ reducer: (left, right) => left.concat(right), default: () => [] }),
});

async function history(
  graph: { getStateHistory(config: unknown): AsyncIterable<StateSnapshot> },
  config: unknown,
) {
  return (await collect(graph.getStateHistory(config))).map((s) => ({
    step: s.metadata?.step,
    log: (s.values as { log?: string[] }).log,
    parent: s.parentConfig?.configurable?.checkpoint_id,
    id: s.config.configurable?.checkpoint_id,
  }));
}

/** LangGraph's `durability`: "exit" stores a run's checkpoint only when it stops. */
export function describeDurability(use: UseSaver): void {
  describe("durability", () => {
    it('"exit" stores the input and the last checkpoint, with the same result as "sync"', () =>
      exitStoresLast(use()));
    it("lists that grow over unstored supersteps are stored whole and right", () => listsAcrossSteps(use()));
    it('"exit" stores the paused head; a resume continues from it', () => exitPauses(use()));
    it("a node failing after unstored supersteps stores the head before it", () => exitFails(use()));
    it("the recursion limit stores the head the run reached", () => exitRecursion(use()));
    it("a static breakpoint stores the head it stops at", () => exitBreakpoint(use()));
    it("a value JSON cannot hold fails the run at the last stored head", () => exitUnstorable(use()));
    it("checkpointDuring: false is exit; a wrong durability is refused before anything is written", () =>
      spellings(use()));
    it("a stepper holds unstored supersteps until flush; a lost flush stores nothing", () =>
      stepperFlush(use()));
    it("graph.step() stores every superstep it runs, whatever the durability", () => stepStores(use()));
    it("supersteps run again after a lost flush keep their tasks' idempotency keys", () => stableKeys(use()));
    it("a caller's config.metadata cannot set the task seed", () => seedIsOwned(use()));
    it("answers held in memory survive a stop whose supersteps cannot be stored", () =>
      answersSurviveUnstorable(use()));
  });
}

async function exitStoresLast(saver: CheckpointSaver): Promise<void> {
  const calls = new CallCounter();
  const graph = linearGraph(saver, calls);
  const sync = threadConfig("durability-sync");
  const exit = threadConfig("durability-exit");
  const syncOut = await graph.invoke({ value: "v" }, { ...sync, durability: "sync" });
  const exitOut = await graph.invoke({ value: "v" }, { ...exit, durability: "exit" });
  expect(exitOut).toEqual(syncOut);
  expect(exitOut.log).toEqual(["a(v)", "b(v)", "c(v)"]);
  expect((await history(graph, sync)).map((h) => h.step)).toEqual([2, 1, 0, -1]);
  const stored = await history(graph, exit);
  expect(stored.map((h) => h.step)).toEqual([2, -1]);
  expect(stored[0]?.parent).toBe(stored[1]?.id);
  expect((await graph.getState(exit)).values).toEqual(syncOut);
}

/**
 * Runs `again` (a stepper after a lost one, as the next worker's) to the end of linearGraph's
 * run; a and b, which ran before, run again with the idempotency keys they had.
 */
export async function redoKeepsKeys(
  again: Stepper,
  graph: { getState(config: unknown): Promise<StateSnapshot> },
  config: unknown,
  calls: CallCounter,
): Promise<void> {
  await stepToEnd(again);
  expect((await graph.getState(config)).values).toMatchObject({ log: ["a(v)", "b(v)", "c(v)"] });
  for (const name of ["a", "b"]) {
    const [first, second] = calls.keys(name);
    expect(second, `${name} ran twice`).toBeDefined();
    expect(second).toBe(first);
  }
}

/** Five nodes in a chain on ItemsState: `items` grows, is emptied, grows; `other` only grows. */
export function itemsGraph(saver: CheckpointSaver) {
  const writes: Array<Record<string, string>> = [
    { items: "x", other: "o1" },
    { items: "y" },
    { items: "reset", other: "o2" },
    { items: "z1" },
    { items: "z2", other: "o3" },
  ];
  let builder = new StateGraph(ItemsState) as StateGraph<any>;
  writes.forEach((write, i) => {
    builder = builder.addNode(`n${i}`, () => write).addEdge(i === 0 ? START : `n${i - 1}`, `n${i}`);
  });
  return builder.addEdge(`n${writes.length - 1}`, END).compile({ checkpointer: saver });
}

async function listsAcrossSteps(saver: CheckpointSaver): Promise<void> {
  const graph = itemsGraph(saver);
  const config = threadConfig("durability-lists");
  const once = { items: ["z1", "z2"], other: ["start", "o1", "o2", "o3"] };
  expect(await graph.invoke({ items: "first", other: "start" }, { ...config, durability: "exit" })).toEqual(
    once,
  );
  // Read back from storage: `items` was emptied between appends, `other` only grew.
  expect((await graph.getState(config)).values).toEqual(once);
  const twice = { items: ["z1", "z2"], other: [...once.other, "o1", "o2", "o3"] };
  expect(await graph.invoke({ items: "again" }, { ...config, durability: "exit" })).toEqual(twice);
  expect((await graph.getState(config)).values).toEqual(twice);
}

async function exitPauses(saver: CheckpointSaver): Promise<void> {
  const graph = new StateGraph(LogState)
    .addNode("a", () => ({ log: "a" }))
    .addNode("b", () => ({ log: `b:${interrupt("ok?")}` }))
    .addNode("c", () => ({ log: "c" }))
    .addNode("d", () => ({ log: "d" }))
    .addEdge(START, "a")
    .addEdge("a", "b")
    .addEdge("b", "c")
    .addEdge("c", "d")
    .compile({ checkpointer: saver });
  const config = { ...threadConfig("durability-pause"), durability: "exit" as const };
  const paused = await graph.invoke({ value: "v" }, config);
  expect(paused.__interrupt__?.map((i) => i.value)).toEqual(["ok?"]);
  const state = await graph.getState(config);
  expect(state.next).toEqual(["b"]);
  expect(state.values.log).toEqual(["a"]);
  expect(state.tasks[0]?.interrupts.map((i) => i.value)).toEqual(["ok?"]);
  expect((await graph.invoke(new Command({ resume: "yes" }), config)).log).toEqual(["a", "b:yes", "c", "d"]);
  expect((await history(graph, config)).map((h) => h.step)).toEqual([3, 0, -1]);
}

async function exitFails(saver: CheckpointSaver): Promise<void> {
  const calls = new CallCounter();
  const fail: { node?: string | undefined } = { node: "c" };
  const graph = linearGraph(saver, calls, fail);
  const config = { ...threadConfig("durability-fail"), durability: "exit" as const };
  await expect(graph.invoke({ value: "v" }, config)).rejects.toThrow("c failed");
  const state = await graph.getState(config);
  expect(state.values.log).toEqual(["a(v)", "b(v)"]);
  expect(state.next).toEqual(["c"]);
  fail.node = undefined;
  expect((await graph.invoke(null, config)).log).toEqual(["a(v)", "b(v)", "c(v)"]);
  expect([calls.of("a"), calls.of("b"), calls.of("c")]).toEqual([1, 1, 2]);
}

async function exitRecursion(saver: CheckpointSaver): Promise<void> {
  const graph = new StateGraph(LogState)
    .addNode("loop", (state: { log: string[] }) => ({ log: `loop${state.log.length}` }))
    .addEdge(START, "loop")
    .addEdge("loop", "loop")
    .compile({ checkpointer: saver });
  const config = { ...threadConfig("durability-recursion"), durability: "exit" as const };
  await expectCode(graph.invoke({ value: "v" }, { ...config, recursionLimit: 3 }), "RECURSION_LIMIT");
  const state = await graph.getState(config);
  expect(state.values.log).toEqual(["loop0", "loop1", "loop2"]);
  expect(state.metadata?.step).toBe(2);
}

async function exitBreakpoint(saver: CheckpointSaver): Promise<void> {
  const calls = new CallCounter();
  const graph = linearGraph(saver, calls, {}, ["c"]);
  const config = { ...threadConfig("durability-breakpoint"), durability: "exit" as const };
  expect(await graph.invoke({ value: "v" }, config)).toMatchObject({
    log: ["a(v)", "b(v)"],
    __interrupt__: [],
  });
  const state = await graph.getState(config);
  expect(state.next).toEqual(["c"]);
  expect((await history(graph, config)).map((h) => h.step)).toEqual([1, -1]);
  expect((await graph.invoke(null, config)).log).toEqual(["a(v)", "b(v)", "c(v)"]);
  expect([calls.of("a"), calls.of("b"), calls.of("c")]).toEqual([1, 1, 1]);
}

async function exitUnstorable(saver: CheckpointSaver): Promise<void> {
  const graph = new StateGraph(LogState)
    .addNode("a", () => ({ log: "a" }))
    .addNode("b", () => ({ value: (() => "a function") as unknown as string }))
    .addNode("c", () => ({ log: "c" }))
    .addEdge(START, "a")
    .addEdge("a", "b")
    .addEdge("b", "c")
    .compile({ checkpointer: saver });
  const config = { ...threadConfig("durability-unstorable"), durability: "exit" as const };
  await expectCode(graph.invoke({ value: "v" }, config), "NOT_SERIALIZABLE");
  // Nothing after the input could be stored: the thread is where the run entered it.
  const state = await graph.getState(config);
  expect(state.values).toEqual({ value: "v", log: [] });
  expect(state.next).toEqual(["a"]);
}

async function spellings(saver: CheckpointSaver): Promise<void> {
  const graph = linearGraph(saver, new CallCounter());
  const during = threadConfig("durability-during");
  await graph.invoke({ value: "v" }, { ...during, checkpointDuring: false });
  expect((await history(graph, during)).map((h) => h.step)).toEqual([2, -1]);
  const wrong = threadConfig("durability-wrong");
  const error = await expectCode(
    graph.invoke({ value: "v" }, { ...wrong, durability: "never" as "exit" }),
    "INVALID_INPUT",
  );
  expect(error.message).toContain('"sync", "async" or "exit"');
  expect(await history(graph, wrong)).toEqual([]);
}

async function stepperFlush(saver: CheckpointSaver): Promise<void> {
  const calls = new CallCounter();
  const graph = linearGraph(saver, calls);
  const config = { ...threadConfig("durability-stepper"), durability: "exit" as const };
  await graph.prepare({ value: "v" }, config);
  const first = graph.stepper(config);
  const racing = graph.stepper(config);
  await racing.head();
  expect((await first.step()).status).toBe("next");
  expect((await first.step()).status).toBe("next");
  expect((await graph.getState(config)).metadata?.step).toBe(-1);
  expect(await first.flush()).toBeUndefined();
  expect((await graph.getState(config)).values.log).toEqual(["a(v)", "b(v)"]);
  // A stepper that loaded the input checkpoint before the flush cannot store over it.
  expect((await racing.step()).status).toBe("next");
  await expectCode(racing.flush(), "CHECKPOINT_CONFLICT");
  expect((await graph.getState(config)).values.log).toEqual(["a(v)", "b(v)"]);
  expect((await first.step()).status).toBe("done");
  expect((await graph.getState(config)).values.log).toEqual(["a(v)", "b(v)", "c(v)"]);
}

async function stepStores(saver: CheckpointSaver): Promise<void> {
  const graph = linearGraph(saver, new CallCounter());
  const config = { ...threadConfig("durability-step"), durability: "exit" as const };
  await graph.prepare({ value: "v" }, config);
  const outcomes = [await graph.step(config), await graph.step(config), await graph.step(config)];
  expect(outcomes.map((o) => o.status)).toEqual(["next", "next", "done"]);
  expect((await graph.getState(config)).values.log).toEqual(["a(v)", "b(v)", "c(v)"]);
}

async function answersSurviveUnstorable(saver: CheckpointSaver): Promise<void> {
  const broken = { now: true };
  const graph = new StateGraph(LogState)
    .addNode("ask", () => ({ log: `ask:${interrupt("ok?")}` }))
    .addNode("bad", () => (broken.now ? { value: (() => "fn") as unknown as string } : { log: "bad" }))
    .addNode("last", () => ({ log: "last" }))
    .addEdge(START, "ask")
    .addEdge("ask", "bad")
    .addEdge("bad", "last")
    .compile({ checkpointer: saver });
  const config = { ...threadConfig("durability-answers"), durability: "exit" as const };
  await graph.invoke({ value: "v" }, config);
  // ask (answered) and bad (unstorable) run unstored; the limit stops the run before last.
  await expectCode(
    graph.invoke(new Command({ resume: "yes" }), { ...config, recursionLimit: 2 }),
    "NOT_SERIALIZABLE",
  );
  broken.now = false;
  // The answer was kept with the paused head: ask is not asked again.
  expect(await graph.invoke(null, config)).toEqual({ value: "v", log: ["ask:yes", "bad", "last"] });
}

async function stableKeys(saver: CheckpointSaver): Promise<void> {
  const calls = new CallCounter();
  const graph = linearGraph(saver, calls);
  const config = { ...threadConfig("durability-keys"), durability: "exit" as const };
  await graph.prepare({ value: "v" }, config);
  const lost = graph.stepper(config);
  await lost.step();
  await lost.step(); // a and b ran; nothing stored: as if the worker died here
  await redoKeepsKeys(graph.stepper(config), graph, config, calls);
}

async function seedIsOwned(saver: CheckpointSaver): Promise<void> {
  const calls = new CallCounter();
  const graph = linearGraph(saver, calls);
  const config = threadConfig("durability-seed");
  const metadata = { task_seed: "mine", team: "ops" };
  await graph.invoke({ value: "v" }, { ...config, metadata });
  await graph.invoke({ value: "w" }, { ...config, metadata, durability: "exit" });
  const [first, second] = calls.keys("a");
  expect(second).toBeDefined();
  expect(second).not.toBe(first);
  for (const snapshot of await collect(graph.getStateHistory(config))) {
    expect(snapshot.metadata?.team).toBe("ops");
    expect(snapshot.metadata?.task_seed).not.toBe("mine");
  }
}
