import type { CheckpointSaver, PutCheckpointArgs, PutWritesArgs } from "@layover/checkpoint";
import { describe, expect, it } from "vitest";
import {
  Annotation,
  Command,
  END,
  interrupt,
  type Pause,
  START,
  StateGraph,
  type StateSnapshot,
} from "../index.ts";
import { itemsGraph, redoKeepsKeys } from "./durability.ts";
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

/** A worker's stepper: durability "async" with supersteps held until the next commit. */
const HOLD = { holdAsync: true } as const;

/** `saver`, whose puts fail while `down.now` is set (a connection lost, a worker about to die). */
function flaky(saver: CheckpointSaver, down: { now: boolean }): CheckpointSaver {
  const check = () => {
    if (down.now) throw new Error("connection lost");
  };
  return {
    getTuple: (ref) => saver.getTuple(ref),
    list: (key, options) => saver.list(key, options),
    put: async (args) => {
      check();
      await saver.put(args);
    },
    ...(saver.putMany === undefined
      ? {}
      : {
          putMany: async (chain: readonly PutCheckpointArgs[]) => {
            check();
            await saver.putMany?.(chain);
          },
        }),
    putWrites: (args) => saver.putWrites(args),
    deleteThread: (threadId) => saver.deleteThread(threadId),
  };
}

/** `graph.stepper({ holdAsync })`: how a worker runs a job's supersteps under "async". */
export function describeHeldAsync(use: UseSaver): void {
  describe("held async supersteps (a worker's stepper)", () => {
    it("stores every superstep, with its parent, as plain async does", () => storesEvery(use()));
    it("stores a held superstep while the next one awaits I/O", () => storesWhileWaiting(use()));
    it("supersteps run again after a lost store keep their tasks' idempotency keys", () =>
      keysSurviveLostStore(use()));
    it("a chain that loses its compare-and-set stores nothing", () => chainConflicts(use()));
    it("lists that grow, empty and grow again across held supersteps read back right", () =>
      listsInChain(use()));
    it("a chain whose store failed is not stored later behind the run's back", () =>
      noStoreAfterFailure(use()));
    it("a pause after held supersteps goes to storePause once: chain, writes and who waits", () =>
      pauseInOneStore(use()));
    it("a pause with nothing held goes to storePause with no chain, only its writes", () =>
      pauseWithNothingHeld(use()));
    it("with the run's seed the input is held too; a redo keeps its first tasks' keys", () =>
      inputHeld(use()));
    it("a held input that cannot be stored fails the step, and nothing is stored", () =>
      inputUnstorable(use()));
    it("a chain that cannot be stored whole fails the step at its last storable superstep", () =>
      chainPartlyStorable(use()));
    it("a stepper whose background store lost stops before its next superstep", () =>
      stopsAfterLostBackgroundStore(use()));
  });
}

async function storesEvery(saver: CheckpointSaver): Promise<void> {
  const graph = linearGraph(saver, new CallCounter());
  const config = threadConfig("held-every");
  await graph.prepare({ value: "v" }, config);
  const stepper = graph.stepper(config, HOLD);
  expect(await stepToEnd(stepper)).toEqual(["next", "next", "done"]);
  const history = await collect(graph.getStateHistory(config));
  expect(history.map((s) => s.metadata?.step)).toEqual([2, 1, 0, -1]);
  expect(history.map((s) => (s.values as { log: string[] }).log)).toEqual([
    ["a(v)", "b(v)", "c(v)"],
    ["a(v)", "b(v)"],
    ["a(v)"],
    [],
  ]);
  history.slice(0, -1).forEach((snapshot, i) => {
    expect(snapshot.parentConfig?.configurable?.checkpoint_id).toBe(
      history[i + 1]?.config.configurable?.checkpoint_id,
    );
  });
}

async function storesWhileWaiting(saver: CheckpointSaver): Promise<void> {
  let release: () => void = () => {};
  const gate = new Promise<void>((resolve) => {
    release = resolve;
  });
  const seen: Array<number | undefined> = [];
  const graph = new StateGraph(LogState)
    .addNode("a", () => ({ log: "a" }))
    .addNode("b", async () => {
      await gate;
      return { log: "b" };
    })
    .addEdge(START, "a")
    .addEdge("a", "b")
    .addEdge("b", END)
    .compile({ checkpointer: saver });
  const config = threadConfig("held-waiting");
  await graph.prepare({ value: "v" }, config);
  const stepper = graph.stepper(config, HOLD);
  expect((await stepper.step()).status).toBe("next");
  const running = stepper.step();
  // b waits on its gate: a's superstep reaches storage meanwhile.
  for (let i = 0; i < 50 && seen.at(-1) !== 0; i++) {
    await new Promise((resolve) => setTimeout(resolve, 10));
    seen.push((await graph.getState(config)).metadata?.step);
  }
  expect(seen.at(-1)).toBe(0);
  release();
  expect((await running).status).toBe("done");
  expect((await graph.getState(config)).values.log).toEqual(["a", "b"]);
}

async function keysSurviveLostStore(saver: CheckpointSaver): Promise<void> {
  const calls = new CallCounter();
  const down = { now: false };
  const graph = linearGraph(flaky(saver, down), calls);
  const config = threadConfig("held-keys");
  await graph.prepare({ value: "v" }, config);
  const lost = graph.stepper(config, HOLD);
  down.now = true; // a and b run; neither reaches storage: as if the worker died here
  expect((await lost.step()).status).toBe("next");
  expect((await lost.step()).status).toBe("next");
  await new Promise((resolve) => setImmediate(resolve));
  expect((await graph.getState(config)).metadata?.step).toBe(-1);
  down.now = false;
  await redoKeepsKeys(graph.stepper(config, HOLD), graph, config, calls);
}

async function chainConflicts(saver: CheckpointSaver): Promise<void> {
  const calls = new CallCounter();
  const down = { now: false };
  const graph = linearGraph(flaky(saver, down), calls);
  const config = threadConfig("held-conflict");
  await graph.prepare({ value: "v" }, config);
  const late = graph.stepper(config, HOLD);
  await late.head();
  // Another worker advances the thread first.
  await graph.step(config);
  down.now = true; // late's a and b are held: their background stores fail
  expect((await late.step()).status).toBe("next");
  expect((await late.step()).status).toBe("next");
  await new Promise((resolve) => setImmediate(resolve));
  down.now = false;
  await expectCode(late.flush(), "CHECKPOINT_CONFLICT");
  const history = await collect(graph.getStateHistory(config));
  expect(history.map((s) => s.metadata?.step)).toEqual([0, -1]);
  expect(calls.of("a")).toBe(2);
}

async function listsInChain(saver: CheckpointSaver): Promise<void> {
  const graph = itemsGraph(saver);
  const config = threadConfig("held-lists");
  await graph.prepare({ items: "first", other: "start" }, config);
  const stepper = graph.stepper(config, HOLD);
  expect(await stepToEnd(stepper)).toEqual(["next", "next", "next", "next", "done"]);
  const history = await collect(graph.getStateHistory(config));
  expect(history.map((s: StateSnapshot<unknown>) => s.values)).toEqual([
    { items: ["z1", "z2"], other: ["start", "o1", "o2", "o3"] },
    { items: ["z1"], other: ["start", "o1", "o2"] },
    { items: [], other: ["start", "o1", "o2"] },
    { items: ["first", "x", "y"], other: ["start", "o1"] },
    { items: ["first", "x"], other: ["start", "o1"] },
    { items: ["first"], other: ["start"] },
  ]);
}

async function noStoreAfterFailure(saver: CheckpointSaver): Promise<void> {
  const down = { now: false };
  const graph = linearGraph(flaky(saver, down), new CallCounter());
  const config = threadConfig("held-failed");
  await graph.prepare({ value: "v" }, config);
  const stepper = graph.stepper(config, HOLD);
  expect((await stepper.step()).status).toBe("next"); // a and b are held, their background
  expect((await stepper.step()).status).toBe("next"); // stores pending
  down.now = true;
  await expect(stepper.step()).rejects.toThrow("connection lost"); // c's commit stores all three
  down.now = false;
  await new Promise((resolve) => setImmediate(resolve));
  await new Promise((resolve) => setTimeout(resolve, 10));
  expect((await graph.getState(config)).metadata?.step).toBe(-1);
  const again = graph.stepper(config, HOLD);
  await stepToEnd(again);
  expect((await graph.getState(config)).values.log).toEqual(["a(v)", "b(v)", "c(v)"]);
}

/** a → ask (interrupts, after awaiting `before`) → c, and a storePause that records its calls and stores. */
function pausingGraph(saver: CheckpointSaver, before: () => Promise<void> = async () => {}) {
  const calls: Array<{
    chain: readonly PutCheckpointArgs[];
    writes: readonly PutWritesArgs[];
    pause: Pause;
  }> = [];
  const storePause = async (
    chain: readonly PutCheckpointArgs[],
    writes: readonly PutWritesArgs[],
    pause: Pause,
  ) => {
    calls.push({ chain, writes, pause });
    for (const args of chain) await saver.put(args);
    for (const args of writes) await saver.putWrites(args);
  };
  const graph = new StateGraph(LogState)
    .addNode("a", () => ({ log: "a" }))
    .addNode("ask", async () => {
      await before();
      return { log: `ask:${interrupt("ok?")}` };
    })
    .addNode("c", () => ({ log: "c" }))
    .addEdge(START, "a")
    .addEdge("a", "ask")
    .addEdge("ask", "c")
    .addEdge("c", END)
    .compile({ checkpointer: saver });
  return { graph, calls, options: { ...HOLD, storePause } };
}

async function pauseInOneStore(saver: CheckpointSaver): Promise<void> {
  const { graph, calls, options } = pausingGraph(saver);
  const config = threadConfig("held-pause");
  await graph.prepare({ value: "v" }, config);
  const stepper = graph.stepper(config, options);
  expect((await stepper.step()).status).toBe("next");
  const paused = await stepper.step();
  expect(paused.status).toBe("interrupted");
  expect(calls).toHaveLength(1);
  const [call] = calls;
  expect(call?.chain.map((args) => args.metadata.step)).toEqual([0]);
  expect(call?.pause.checkpointId).toBe(paused.checkpointId);
  expect(call?.pause.interrupts.map((i) => i.value)).toEqual(["ok?"]);
  expect(call?.pause.waiting).toEqual(paused.waiting);
  expect(call?.pause.waiting.map((task) => task.name)).toEqual(["ask"]);
  expect(call?.writes.flatMap((w) => w.writes.map(([channel]) => channel))).toEqual(["__interrupt__"]);
  const state = await graph.getState(config);
  expect(state.next).toEqual(["ask"]);
  expect(state.tasks[0]?.interrupts.map((i) => i.value)).toEqual(["ok?"]);
  expect((await graph.invoke(new Command({ resume: "yes" }), config)).log).toEqual(["a", "ask:yes", "c"]);
}

async function pauseWithNothingHeld(saver: CheckpointSaver): Promise<void> {
  // ask awaits I/O first: a is stored meanwhile, so nothing is held when ask pauses.
  const { graph, calls, options } = pausingGraph(
    saver,
    () => new Promise((resolve) => setTimeout(resolve, 5)),
  );
  const config = threadConfig("held-pause-stored");
  await graph.prepare({ value: "v" }, config);
  const stepper = graph.stepper(config, options);
  expect((await stepper.step()).status).toBe("next");
  const paused = await stepper.step();
  expect(paused.status).toBe("interrupted");
  expect(calls.map((call) => call.chain.length)).toEqual([0]);
  expect(calls[0]?.pause.checkpointId).toBe(paused.checkpointId);
  expect(calls[0]?.writes.flatMap((w) => w.writes.map(([channel]) => channel))).toEqual(["__interrupt__"]);
  const state = await graph.getState(config);
  expect(state.next).toEqual(["ask"]);
  expect(state.tasks[0]?.interrupts.map((i) => i.value)).toEqual(["ok?"]);
}

async function inputHeld(saver: CheckpointSaver): Promise<void> {
  const calls = new CallCounter();
  const down = { now: false };
  const graph = linearGraph(flaky(saver, down), calls);
  const config = threadConfig("held-input");
  const seeded = { ...HOLD, seed: "run-1" };
  const lost = graph.stepper(config, seeded);
  down.now = true; // the input and a are held; neither reaches storage
  await lost.prepare({ value: "v" });
  expect((await lost.step()).status).toBe("next");
  await new Promise((resolve) => setImmediate(resolve));
  expect(await collect(graph.getStateHistory(config))).toEqual([]);
  down.now = false;
  const again = graph.stepper(config, seeded);
  await again.prepare({ value: "v" });
  await stepToEnd(again);
  const history = await collect(graph.getStateHistory(config));
  expect(history.map((s) => s.metadata?.step)).toEqual([2, 1, 0, -1]);
  expect(history.at(-1)?.parentConfig).toBeUndefined();
  const [first, second] = calls.keys("a");
  expect(second, "a ran twice").toBeDefined();
  expect(second).toBe(first);
}

async function inputUnstorable(saver: CheckpointSaver): Promise<void> {
  const State = Annotation.Root({
    value: Annotation<unknown>({
      reducer: (_old: unknown, given: unknown) => () => given,
      default: () => null,
    }),
  });
  const graph = new StateGraph(State)
    .addNode("a", () => ({}))
    .addEdge(START, "a")
    .addEdge("a", END)
    .compile({ checkpointer: saver });
  const config = threadConfig("held-input-unstorable");
  const stepper = graph.stepper(config, { ...HOLD, seed: "run-2" });
  await stepper.prepare({ value: 1 });
  await expectCode(stepper.step(), "NOT_SERIALIZABLE");
  expect(await collect(graph.getStateHistory(config))).toEqual([]);
}

async function chainPartlyStorable(saver: CheckpointSaver): Promise<void> {
  const graph = new StateGraph(LogState)
    .addNode("a", () => ({ log: "a" }))
    .addNode("b", () => ({ value: (() => "a function") as unknown as string }))
    .addEdge(START, "a")
    .addEdge("a", "b")
    .addEdge("b", END)
    .compile({ checkpointer: saver });
  const config = threadConfig("held-partly");
  await graph.prepare({ value: "v" }, config);
  const stepper = graph.stepper(config, HOLD);
  expect((await stepper.step()).status).toBe("next"); // a, held
  const failed = await stepper.step(); // b: [a, b] cannot be stored, a alone can
  expect(failed.status).toBe("failed");
  expect((failed.error as { code?: string }).code).toBe("NOT_SERIALIZABLE");
  expect(failed.step).toBe(0);
  const state = await graph.getState(config);
  expect(state.values.log).toEqual(["a"]);
  expect(state.next).toEqual(["b"]);
}

async function stopsAfterLostBackgroundStore(saver: CheckpointSaver): Promise<void> {
  const ran: string[] = [];
  let builder = new StateGraph(LogState) as StateGraph<any>;
  for (const name of ["a", "b", "c"]) {
    builder = builder.addNode(name, async () => {
      ran.push(name);
      await new Promise((resolve) => setTimeout(resolve, 10)); // an LLM call
      return { log: name };
    });
  }
  const graph = builder
    .addEdge(START, "a")
    .addEdge("a", "b")
    .addEdge("b", "c")
    .addEdge("c", END)
    .compile({ checkpointer: saver });
  const config = threadConfig("held-lost");
  await graph.prepare({ value: "v" }, config);
  const late = graph.stepper(config, HOLD);
  await late.head();
  await graph.step(config); // another worker's delivery of the same job stores a first
  ran.length = 0;
  expect((await late.step()).status).toBe("next"); // a again, held
  // b runs while a's background store loses; the stepper stops there, before c.
  await expectCode(late.step(), "CHECKPOINT_CONFLICT");
  expect(ran).toEqual(["a", "b"]);
}
