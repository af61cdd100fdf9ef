import type { CheckpointSaver } from "@layover/checkpoint";
import { describe, expect, it } from "vitest";
import { byInterruptId, Command, END, GraphAbortedError, interrupt, START, StateGraph } from "../index.ts";
import { CallCounter, expectCode, LogState, threadConfig, type UseSaver } from "./helpers.ts";

function askGraph(saver: CheckpointSaver) {
  return new StateGraph(LogState)
    .addNode("ask", () => ({ log: interrupt("ok?") }))
    .addEdge(START, "ask")
    .compile({ checkpointer: saver });
}

/** A node that loops on itself until the log holds 100 entries. */
function loopGraph(saver: CheckpointSaver, calls: CallCounter) {
  return new StateGraph(LogState)
    .addNode("loop", () => {
      calls.hit("loop");
      return { log: "tick" };
    })
    .addEdge(START, "loop")
    .addConditionalEdges("loop", (state) => (state.log.length >= 100 ? END : "loop"))
    .compile({ checkpointer: saver });
}

/** Item 10: bad calls get typed errors that say what to do; recursion limit; abort. */
export function describeRunErrors(use: UseSaver): void {
  describe("typed errors", () => {
    it("refuses to resume a thread that is not interrupted", () => notInterrupted(use()));
    it("refuses an unknown interrupt id beside a pending one's, listing the pending ones", () =>
      unknownInterrupt(use()));
    it("takes an object keyed by UUIDs other than interrupt ids (v4, v7) as the answer to the one pending", () =>
      recordKeyedAnswer(use()));
    it("refuses an answer sent again by id once its question was answered, not taking it for the next", () =>
      answerSentTwice(use()));
    it("asks for a thread_id when the graph has a checkpointer", () => missingThreadId(use()));
    it("stops a runaway loop at recursionLimit with GraphRecursionError", () => recursionLimit(use(), 5));
    it("stops at the default limit of 25 supersteps", () => recursionLimit(use(), undefined));
    it("runs exactly recursionLimit supersteps when the graph needs that many", () => exactLimit(use()));
    it("a result no checkpoint can hold, beside a task that paused, fails the superstep", () =>
      unstorableBesidePause(use()));
    it("after a node failed, getState shows what its finished sibling wrote, and next the failed node", () =>
      siblingOfFailure(use()));
  });
  describe("AbortSignal", () => {
    it("a signal aborted during a superstep stops the run before the next one", () => abortMidRun(use()));
    it("a signal aborted before the call runs no node", () => abortBefore(use()));
    it("nodes see the signal in their config", () => signalInConfig(use()));
    it("an abort during a retry's backoff ends the wait with GraphAbortedError", () => abortBackoff(use()));
  });
}

async function notInterrupted(saver: CheckpointSaver): Promise<void> {
  const graph = askGraph(saver);
  const config = threadConfig("not-interrupted");
  const fresh = await expectCode(graph.invoke(new Command({ resume: 1 }), config), "NOT_INTERRUPTED");
  expect(fresh.message).toContain(config.configurable.thread_id);
  await graph.invoke({ value: "v" }, config);
  await graph.invoke(new Command({ resume: "yes" }), config);
  const done = await expectCode(graph.invoke(new Command({ resume: "again" }), config), "NOT_INTERRUPTED");
  expect(done.name).toBe("NotInterruptedError");
  expect(done.message).toContain("no pending interrupt");
  expect((await graph.getState(config)).values.log).toEqual(["yes"]);
}

async function unknownInterrupt(saver: CheckpointSaver): Promise<void> {
  const graph = askGraph(saver);
  const config = threadConfig("unknown");
  const paused = await graph.invoke({ value: "v" }, config);
  const pausedId = paused.__interrupt__?.[0]?.id as string;
  const unknownId = "12345678-1234-5234-a234-123456789abc";
  const error = await expectCode(
    graph.invoke(new Command({ resume: { [pausedId]: "x", [unknownId]: "y" } }), config),
    "UNKNOWN_INTERRUPT",
  );
  expect(error.message).toContain(unknownId);
  expect(error.message).toContain(pausedId);
  // Answers marked as by id are read strictly: an id not pending is never taken as an answer.
  await expectCode(
    graph.invoke(new Command({ resume: byInterruptId({ [unknownId]: "y" }) }), config),
    "UNKNOWN_INTERRUPT",
  );
}

async function recordKeyedAnswer(saver: CheckpointSaver): Promise<void> {
  // As in LangGraph.js: per-item decisions keyed by the items' own UUIDs are one answer.
  const graph = new StateGraph(LogState)
    .addNode("review", () => ({ log: JSON.stringify(interrupt("decide each document")) }))
    .addEdge(START, "review")
    .compile({ checkpointer: saver });
  const config = threadConfig("record-keyed");
  await graph.invoke({ value: "v" }, config);
  const decisions = {
    "0b7e3a52-61f4-4c9e-9a0e-6f1d2c3b4a59": "approve",
    "9c1d2e3f-4a5b-4c6d-8e7f-0a1b2c3d4e5f": "reject",
  };
  const done = await graph.invoke(new Command({ resume: decisions }), config);
  expect(JSON.parse(done.log[0] as string)).toEqual(decisions);
}

async function missingThreadId(saver: CheckpointSaver): Promise<void> {
  const graph = askGraph(saver);
  const error = await expectCode(graph.invoke({ value: "v" }), "MISSING_THREAD_ID");
  expect(error.name).toBe("MissingThreadIdError");
  expect(error.message).toContain("thread_id");
  await expectCode(graph.invoke({ value: "v" }, { configurable: {} }), "MISSING_THREAD_ID");
  await expectCode(graph.getState({}), "MISSING_THREAD_ID");
  // A number is not taken for a missing id: the error says what it is and what to pass.
  const numbered = await expectCode(
    graph.invoke({ value: "v" }, { configurable: { thread_id: 42 as unknown as string } }),
    "INVALID_INPUT",
  );
  expect(numbered.message).toContain("thread_id is a number");
  expect(numbered.message).toContain("String(id)");
  expect((await graph.getState(threadConfig("42"))).values).toEqual({});
}

async function recursionLimit(saver: CheckpointSaver, limit: number | undefined): Promise<void> {
  const calls = new CallCounter();
  const config =
    limit === undefined ? threadConfig("recursion") : { ...threadConfig("recursion"), recursionLimit: limit };
  const error = await expectCode(loopGraph(saver, calls).invoke({ value: "v" }, config), "RECURSION_LIMIT");
  expect(error.name).toBe("GraphRecursionError");
  // LangGraph.js's code, for code ported from it that checks it.
  expect(error).toMatchObject({ lc_error_code: "GRAPH_RECURSION_LIMIT" });
  expect(error.message).toContain("recursionLimit");
  expect(calls.of("loop")).toBe(limit ?? 25);
}

async function exactLimit(saver: CheckpointSaver): Promise<void> {
  const graph = new StateGraph(LogState)
    .addSequence([
      ["a", () => ({ log: "a" })],
      ["b", () => ({ log: "b" })],
      ["c", () => ({ log: "c" })],
    ])
    .addEdge(START, "a")
    .compile({ checkpointer: saver });
  const result = await graph.invoke({ value: "v" }, { ...threadConfig("exact-limit"), recursionLimit: 3 });
  expect(result.log).toEqual(["a", "b", "c"]);
}

async function abortMidRun(saver: CheckpointSaver): Promise<void> {
  const controller = new AbortController();
  const calls = new CallCounter();
  const graph = new StateGraph(LogState)
    .addNode("first", () => {
      controller.abort(new Error("user cancelled"));
      return { log: "first" };
    })
    .addNode("second", () => {
      calls.hit("second");
      return { log: "second" };
    })
    .addEdge(START, "first")
    .addEdge("first", "second")
    .compile({ checkpointer: saver });
  const config = { ...threadConfig("abort"), signal: controller.signal };
  const error = await expectCode(graph.invoke({ value: "v" }, config), "ABORTED");
  expect(error).toBeInstanceOf(GraphAbortedError);
  expect(error.name).toBe("AbortError"); // as LangGraph.js's: name checks keep working
  expect(calls.of("second")).toBe(0);
  expect((await graph.getState(config)).next).toEqual(["second"]);
  const resumed = await graph.invoke(null, { configurable: config.configurable });
  expect(resumed.log).toEqual(["first", "second"]);
}

async function abortBefore(saver: CheckpointSaver): Promise<void> {
  const calls = new CallCounter();
  const graph = new StateGraph(LogState)
    .addNode("first", () => {
      calls.hit("first");
      return { log: "first" };
    })
    .addEdge(START, "first")
    .compile({ checkpointer: saver });
  const signal = AbortSignal.abort();
  await expectCode(graph.invoke({ value: "v" }, { ...threadConfig("pre-abort"), signal }), "ABORTED");
  expect(calls.of("first")).toBe(0);
}

async function signalInConfig(saver: CheckpointSaver): Promise<void> {
  const controller = new AbortController();
  let seen: AbortSignal | undefined;
  const graph = new StateGraph(LogState)
    .addNode("first", (_state, config) => {
      seen = config.signal;
      return { log: "first" };
    })
    .addEdge(START, "first")
    .compile({ checkpointer: saver });
  await graph.invoke({ value: "v" }, { ...threadConfig("signal"), signal: controller.signal });
  expect(seen).toBe(controller.signal);
}

async function abortBackoff(saver: CheckpointSaver): Promise<void> {
  const controller = new AbortController();
  const calls = new CallCounter();
  const graph = new StateGraph(LogState)
    .addNode(
      "flaky",
      () => {
        calls.hit("flaky");
        controller.abort(new Error("shutting down"));
        throw new Error("transient");
      },
      { retryPolicy: { maxAttempts: 3, initialInterval: 3_600_000 } },
    )
    .addEdge(START, "flaky")
    .compile({ checkpointer: saver });
  const config = { ...threadConfig("abort-backoff"), signal: controller.signal };
  await expectCode(graph.invoke({ value: "v" }, config), "ABORTED");
  expect(calls.of("flaky")).toBe(1);
}

async function unstorableBesidePause(saver: CheckpointSaver): Promise<void> {
  const graph = new StateGraph(LogState)
    .addNode("a", () => ({ log: "a" }))
    .addNode("b", () => ({ value: (() => "a function") as unknown as string }))
    .addNode("c", () => ({ log: `c:${interrupt("ok?")}` }))
    .addEdge(START, "a")
    .addEdge("a", "b")
    .addEdge("a", "c")
    .compile({ checkpointer: saver });
  const config = threadConfig("unstorable-beside-pause");
  await graph.prepare({ value: "v" }, config);
  const stepper = graph.stepper(config);
  expect((await stepper.step()).status).toBe("next");
  // b's result cannot be stored: the superstep fails with it, at the head it ran from.
  const failed = await stepper.step();
  expect(failed.status).toBe("failed");
  expect((failed.error as { code?: string }).code).toBe("NOT_SERIALIZABLE");
  expect((await graph.getState(config)).values.log).toEqual(["a"]);
}

async function siblingOfFailure(saver: CheckpointSaver): Promise<void> {
  const graph = new StateGraph(LogState)
    .addNode("fetch", () => ({ log: "fetched" }))
    .addNode("charge", () => {
      throw new Error("card declined");
    })
    .addEdge(START, "fetch")
    .addEdge(START, "charge")
    .compile({ checkpointer: saver });
  const config = threadConfig("sibling-of-failure");
  await expect(graph.invoke({ value: "v" }, config)).rejects.toThrow("card declined");
  const state = await graph.getState(config);
  expect(state.values).toEqual({ value: "v", log: ["fetched"] });
  expect(state.next).toEqual(["charge"]);
}

async function answerSentTwice(saver: CheckpointSaver): Promise<void> {
  const graph = new StateGraph(LogState)
    .addNode("ask", () => ({ log: `${String(interrupt("first?"))} ${JSON.stringify(interrupt("second?"))}` }))
    .addEdge(START, "ask")
    .compile({ checkpointer: saver });
  const config = threadConfig("sent-twice");
  const first = (await graph.invoke({ value: "v" }, config)).__interrupt__?.[0]?.id as string;
  const again = (await graph.invoke(new Command({ resume: { [first]: "yes" } }), config)).__interrupt__;
  expect(again?.map((i) => i.value)).toEqual(["second?"]);
  // A double click: the same answer by the first question's id.
  await expectCode(graph.invoke(new Command({ resume: { [first]: "yes" } }), config), "UNKNOWN_INTERRUPT");
  expect((await graph.getState(config)).tasks[0]?.interrupts.map((i) => i.value)).toEqual(["second?"]);
}
