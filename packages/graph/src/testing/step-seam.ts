import type { CheckpointSaver } from "@layover/checkpoint";
import { describe, expect, it } from "vitest";
import { Command, interrupt, RESUME, START, StateGraph } from "../index.ts";
import {
  CallCounter,
  collect,
  expectCode,
  LogState,
  linearGraph,
  threadConfig,
  type UseSaver,
} from "./helpers.ts";

/** plan → approve (interrupts) → act. */
function pipeline(saver: CheckpointSaver, calls: CallCounter) {
  return new StateGraph(LogState)
    .addNode("plan", () => {
      calls.hit("plan");
      return { log: "plan" };
    })
    .addNode("approve", () => ({ log: `approve ${interrupt("ok?")}` }))
    .addNode("act", () => ({ log: "act" }))
    .addEdge(START, "plan")
    .addEdge("plan", "approve")
    .addEdge("approve", "act")
    .compile({ checkpointer: saver });
}

type Breakpoints = { interruptBefore: string[] } | { interruptAfter: string[] };

/** The step seam: prepare() records input, step() advances one superstep and says what happened. */
export function describeStepSeam(use: UseSaver): void {
  describe("step seam", () => {
    it("advances one superstep per call: next, interrupted, then done after a resume", () =>
      stepByStep(use()));
    it("reports a failing node as a failed outcome, and a later step runs it again", () => failedStep(use()));
    it("reports writes that cannot be applied or stored as a failed outcome, committing nothing", () =>
      conflictingWrites(use()));
    it("continues on other graph instances: everything needed is in the checkpoint", () =>
      otherInstances(use()));
    it("interruptBefore: a re-run step stops again; prepare(null) continues past it", () =>
      breakpointStep(use(), { interruptBefore: ["act"] }));
    it("interruptAfter: a re-run step stops again; prepare(null) continues past it", () =>
      breakpointStep(use(), { interruptAfter: ["plan"] }));
    it("prepareUpdate is updateState(values, asNode) then invoke(null): asNode's task is skipped, the next one runs", () =>
      updateAsNodeStep(use()));
    it("prepareUpdate as the node that routed re-routes: the task it had planned is dropped, as LangGraph's", () =>
      updateAsRouterStep(use()));
    it("prepareUpdate as a node the breakpoint is not in front of: the paused task is dropped, as LangGraph's", () =>
      updateAsLaterNodeStep(use()));
    it("checks what prepare records before writing anything", () => prepareChecks(use()));
    it("a stepper reads the head once: prepare, then every step, on what it holds", () =>
      stepperHoldsHead(use()));
    it("a stepper given the head its caller read reads none; after losing a commit it reads again", () =>
      stepperTakesHeadReadAlready(use()));
    it("a stepper stores a resume's answer with the step that uses it, or with the node's next ask", () =>
      resumeStoredWithStep(use()));
  });
}

async function stepByStep(saver: CheckpointSaver): Promise<void> {
  const calls = new CallCounter();
  const graph = pipeline(saver, calls);
  const config = threadConfig("seam");
  const { checkpointId } = await graph.prepare({ value: "v" }, config);
  expect((await graph.getState(config)).config.configurable?.checkpoint_id).toBe(checkpointId);
  expect(calls.of("plan")).toBe(0);
  const first = await graph.step(config);
  expect(first).toMatchObject({ status: "next", next: ["approve"], step: 0, interrupts: [] });
  const second = await graph.step(config);
  expect(second).toMatchObject({ status: "interrupted", next: [], step: 0 });
  expect(second.interrupts.map((record) => record.value)).toEqual(["ok?"]);
  expect(second.checkpointId).toBe(first.checkpointId);
  await graph.prepare(new Command({ resume: "yes" }), config);
  expect(await graph.step(config)).toMatchObject({ status: "next", next: ["act"], step: 1 });
  expect(await graph.step(config)).toMatchObject({ status: "done", step: 2 });
  expect((await graph.getState(config)).values.log).toEqual(["plan", "approve yes", "act"]);
  expect(await graph.step(config)).toMatchObject({ status: "done", step: 2 });
  expect(await collect(graph.getStateHistory(config))).toHaveLength(4);
}

async function failedStep(saver: CheckpointSaver): Promise<void> {
  let failures = 1;
  const graph = new StateGraph(LogState)
    .addNode("fragile", () => {
      if (failures-- > 0) throw new Error("downstream unavailable");
      return { log: "ok" };
    })
    .addEdge(START, "fragile")
    .compile({ checkpointer: saver });
  const config = threadConfig("seam-failed");
  const { checkpointId } = await graph.prepare({ value: "v" }, config);
  const failed = await graph.step(config);
  expect(failed).toMatchObject({ status: "failed", checkpointId });
  expect((failed.error as Error).message).toBe("downstream unavailable");
  expect(await graph.step(config)).toMatchObject({ status: "done", step: 0 });
}

async function conflictingWrites(saver: CheckpointSaver): Promise<void> {
  // Two parallel nodes write `value`, a key without a reducer: the superstep cannot commit.
  const graph = new StateGraph(LogState)
    .addNode("left", () => ({ value: "left" }))
    .addNode("right", () => ({ value: "right" }))
    .addEdge(START, "left")
    .addEdge(START, "right")
    .compile({ checkpointer: saver });
  const config = threadConfig("seam-conflicting");
  const { checkpointId } = await graph.prepare({ value: "v" }, config);
  const failed = await graph.step(config);
  expect(failed).toMatchObject({ status: "failed", checkpointId, error: { code: "INVALID_UPDATE" } });
  expect(await collect(graph.getStateHistory(config))).toHaveLength(1);
  await expectCode(graph.invoke(null, config), "INVALID_UPDATE");

  // An answer given for the failing superstep is kept: the thread shows the interrupt answered.
  const answered = new StateGraph(LogState)
    .addNode("ask", () => ({ value: String(interrupt("ok?")) }))
    .addNode("other", () => ({ value: "other" }))
    .addEdge(START, "ask")
    .addEdge(START, "other")
    .compile({ checkpointer: saver });
  const asking = threadConfig("seam-conflicting-answer");
  await answered.prepare({ value: "v" }, asking);
  expect((await answered.step(asking)).status).toBe("interrupted");
  const resumed = answered.stepper(asking);
  await resumed.prepare(new Command({ resume: "yes" }));
  expect(await resumed.step()).toMatchObject({ status: "failed", error: { code: "INVALID_UPDATE" } });
  const tasks = (await answered.getState(asking)).tasks;
  expect(tasks.find((task) => task.name === "ask")?.interrupts).toEqual([]);

  const unstorable = new StateGraph(LogState)
    .addNode("count", () => ({ value: (() => "a function") as unknown as string }))
    .addEdge(START, "count")
    .compile({ checkpointer: saver });
  const other = threadConfig("seam-unstorable");
  await unstorable.prepare({ value: "v" }, other);
  expect(await unstorable.step(other)).toMatchObject({
    status: "failed",
    error: { code: "NOT_SERIALIZABLE" },
  });
}

async function otherInstances(saver: CheckpointSaver): Promise<void> {
  const config = threadConfig("seam-workers");
  const worker = () => pipeline(saver, new CallCounter());
  await worker().prepare({ value: "v" }, config);
  await worker().step(config);
  const interrupted = await worker().step(config);
  const id = interrupted.interrupts[0]?.id as string;
  await worker().prepare(new Command({ resume: { [id]: "remote" } }), config);
  await worker().step(config);
  expect(await worker().step(config)).toMatchObject({ status: "done" });
  expect((await worker().getState(config)).values.log).toEqual(["plan", "approve remote", "act"]);
}

async function breakpointStep(saver: CheckpointSaver, breakpoints: Breakpoints): Promise<void> {
  const calls = new CallCounter();
  const graph = new StateGraph(LogState)
    .addNode("plan", () => ({ log: "plan" }))
    .addNode("act", () => {
      calls.hit("act");
      return { log: "act" };
    })
    .addEdge(START, "plan")
    .addEdge("plan", "act")
    .compile({ checkpointer: saver, ...breakpoints });
  const config = threadConfig("seam-breakpoint");
  await graph.prepare({ value: "v" }, config);
  const first = await graph.step(config);
  expect(first.status).toBe("interruptBefore" in breakpoints ? "next" : "interrupted");
  for (let redelivery = 0; redelivery < 2; redelivery++) {
    expect(await graph.step(config)).toMatchObject({ status: "interrupted", interrupts: [] });
  }
  expect(calls.of("act")).toBe(0);
  await graph.prepare(null, config);
  expect(await graph.step(config)).toMatchObject({ status: "done" });
  expect(calls.of("act")).toBe(1);
}

async function updateAsNodeStep(saver: CheckpointSaver): Promise<void> {
  const calls = new CallCounter();
  const graph = linearGraph(saver, calls, {}, ["b", "c"]);
  // In one process: stop before b, answer as b, go on (LangGraph passes the breakpoint before c).
  const local = threadConfig("seam-update-local");
  await graph.invoke({ value: "v" }, local);
  await graph.updateState(local, { log: "edited as b" }, "b");
  const expected = await graph.invoke(null, local);
  expect(expected.log).toEqual(["a(v)", "edited as b", "c(v)"]);

  const config = threadConfig("seam-update");
  await graph.prepare({ value: "v" }, config);
  expect(await graph.step(config)).toMatchObject({ status: "next", next: ["b"] });
  expect(await graph.step(config)).toMatchObject({ status: "interrupted", interrupts: [] });
  const before = calls.of("b");
  const stepper = graph.stepper(config);
  await stepper.prepareUpdate({ log: "edited as b" }, "b");
  expect(await stepper.step()).toMatchObject({ status: "done" });
  await stepper.flush();
  expect((await graph.getState(config)).values).toEqual(expected);
  expect(calls.of("b")).toBe(before);
  await expectCode(graph.stepper(config).prepareUpdate({ log: "x" }, "nope"), "INVALID_UPDATE");
  await expectCode(graph.stepper(threadConfig("seam-update-none")).prepareUpdate({}, "b"), "INVALID_INPUT");
}

/** a routes on `value` to b or c; stops before b. */
function routed(saver: CheckpointSaver, calls: CallCounter) {
  const node = (name: string) => () => {
    calls.hit(name, name);
    return { log: name };
  };
  return new StateGraph(LogState)
    .addNode("a", node("a"))
    .addNode("b", node("b"))
    .addNode("c", node("c"))
    .addEdge(START, "a")
    .addConditionalEdges("a", (s) => (s.value === "c" ? "c" : "b"), ["b", "c"])
    .compile({ checkpointer: saver, interruptBefore: ["b"] });
}

async function updateAsRouterStep(saver: CheckpointSaver): Promise<void> {
  // LangGraph.js 1.7.3: updateState(config, { value: "c" }, "a") then invoke(null) gives
  // log ["a", "c"] — the update is a's superstep again, and its edge sends to c only.
  const calls = new CallCounter();
  const graph = routed(saver, calls);
  const config = threadConfig("seam-update-router");
  await graph.prepare({ value: "b" }, config);
  expect(await graph.step(config)).toMatchObject({ status: "next", next: ["b"] });
  expect(await graph.step(config)).toMatchObject({ status: "interrupted", interrupts: [] });
  const stepper = graph.stepper(config);
  await stepper.prepareUpdate({ value: "c" }, "a");
  expect(await stepper.step()).toMatchObject({ status: "done" });
  await stepper.flush();
  expect((await graph.getState(config)).values.log).toEqual(["a", "c"]);
  expect(calls.of("b")).toBe(0);
}

async function updateAsLaterNodeStep(saver: CheckpointSaver): Promise<void> {
  // LangGraph.js 1.7.3: stopped before b, updateState(config, { log: "as c" }, "c") then
  // invoke(null) ends with log ["a(v)", "as c"]: b is dropped, and c (whose output it is) does not run.
  const calls = new CallCounter();
  const graph = linearGraph(saver, calls, {}, ["b"]);
  const config = threadConfig("seam-update-later");
  await graph.prepare({ value: "v" }, config);
  expect(await graph.step(config)).toMatchObject({ status: "next", next: ["b"] });
  expect(await graph.step(config)).toMatchObject({ status: "interrupted", interrupts: [] });
  const stepper = graph.stepper(config);
  await stepper.prepareUpdate({ log: "as c" }, "c");
  for (;;) if ((await stepper.step()).status !== "next") break;
  await stepper.flush();
  expect((await graph.getState(config)).values.log).toEqual(["a(v)", "as c"]);
  expect([calls.of("b"), calls.of("c")]).toEqual([0, 0]);
}

async function prepareChecks(saver: CheckpointSaver): Promise<void> {
  const graph = pipeline(saver, new CallCounter());
  const config = threadConfig("seam-prepare-check");
  await expectCode(graph.prepare(new Command({ resume: 1 }), config), "NOT_INTERRUPTED");
  await expectCode(graph.step(config), "INVALID_INPUT");
  await expectCode(graph.prepare({ value: "v", nope: 1 } as never, config), "INVALID_INPUT");
  expect(await collect(graph.getStateHistory(config))).toEqual([]);
}

/** Counts the head reads and the stored resume answers of a graph using `saver`. */
function countingReads(saver: CheckpointSaver) {
  let reads = 0;
  let answers = 0;
  const counted = Object.create(saver) as CheckpointSaver;
  counted.getTuple = (...args) => {
    reads += 1;
    return saver.getTuple(...args);
  };
  counted.putWrites = (args) => {
    answers += args.writes.filter(([channel]) => channel === RESUME).length;
    return saver.putWrites(args);
  };
  return { saver: counted, reads: () => reads, answers: () => answers };
}

async function resumeStoredWithStep(saver: CheckpointSaver): Promise<void> {
  const counted = countingReads(saver);
  const graph = new StateGraph(LogState)
    .addNode("ask", () => ({ log: `${interrupt("first?")} ${interrupt("second?")}` }))
    .addEdge(START, "ask")
    .compile({ checkpointer: counted.saver });
  const config = threadConfig("seam-resume-stored");
  const start = graph.stepper(config);
  await start.prepare({ value: "v" });
  expect((await start.step()).status).toBe("interrupted");

  // A job that records the answer and dies before stepping leaves nothing behind: redo it.
  await graph.stepper(config).prepare(new Command({ resume: "lost" }));
  expect(counted.answers()).toBe(0);
  const first = graph.stepper(config);
  await first.prepare(new Command({ resume: "A" }));
  const askedAgain = await first.step();
  expect(askedAgain.interrupts.map((record) => record.value)).toEqual(["second?"]);
  expect(counted.answers()).toBe(1); // kept with the node's second ask: the node re-runs from the top

  const second = graph.stepper(config);
  await second.prepare(new Command({ resume: "B" }));
  expect((await second.step()).status).toBe("done");
  expect(counted.answers()).toBe(1); // consumed by the commit, never stored on its own
  expect((await graph.getState(config)).values.log).toEqual(["A B"]);
}

async function stepperTakesHeadReadAlready(saver: CheckpointSaver): Promise<void> {
  const counted = countingReads(saver);
  const graph = pipeline(counted.saver, new CallCounter());
  const config = threadConfig("seam-head-read");
  const key = { threadId: config.configurable.thread_id, ns: "" };
  await graph.stepper(config).prepare({ value: "v" });
  const head = counted.saver.getTuple(key);
  await head;
  const late = graph.stepper(config, { head });
  // Another stepper advances the thread from the same head first.
  expect((await graph.stepper(config).step()).status).toBe("next");
  const reads = counted.reads();
  await expect(late.step()).rejects.toMatchObject({ code: "CHECKPOINT_CONFLICT" });
  expect(counted.reads()).toBe(reads); // it stepped from the head it was given
  expect(await late.step()).toMatchObject({ status: "interrupted" });
  expect(counted.reads()).toBe(reads + 1); // then read the head the other stepper committed
  expect((await graph.getState(config)).values.log).toEqual(["plan"]);
}

async function stepperHoldsHead(saver: CheckpointSaver): Promise<void> {
  const counted = countingReads(saver);
  const graph = pipeline(counted.saver, new CallCounter());
  const config = threadConfig("seam-stepper");
  const starting = graph.stepper(config);
  expect(await starting.head()).toBeUndefined();
  const { checkpointId } = await starting.prepare({ value: "v" });
  expect((await starting.head())?.checkpointId).toBe(checkpointId);
  expect(await starting.step()).toMatchObject({ status: "next", waiting: [] });
  const parked = await starting.step();
  expect(parked).toMatchObject({ status: "interrupted" });
  const interruptId = parked.interrupts[0]?.id as string;
  const approve = (await graph.getState(config)).tasks.find((task) => task.name === "approve");
  expect(parked.waiting).toEqual([{ id: approve?.id, name: "approve", interrupts: parked.interrupts }]);
  expect(counted.reads()).toBe(2); // the stepper's one head read, and getState above

  const resuming = graph.stepper(config);
  expect((await resuming.head())?.metadata.step).toBe(parked.step);
  await resuming.prepare(new Command({ resume: { [interruptId]: "yes" } }));
  const held = await resuming.head();
  expect(held?.pendingWrites.some((write) => write.taskId === interruptId)).toBe(true);
  expect(await resuming.step()).toMatchObject({ status: "next", next: ["act"] });
  expect(await resuming.step()).toMatchObject({ status: "done" });
  expect(counted.reads()).toBe(3);
  expect((await graph.getState(config)).values.log).toEqual(["plan", "approve yes", "act"]);
}
