import type { Checkpoint, CheckpointSaver } from "@layover/checkpoint";
import { describe, expect, it } from "vitest";
import { START, StateGraph, tasksOfCheckpoint } from "../index.ts";
import { CallCounter, collect, expectCode, LogState, threadConfig, type UseSaver } from "./helpers.ts";

type Breakpoints = { interruptBefore?: string[] | "*"; interruptAfter?: string[] | "*" };

function pipeline(saver: CheckpointSaver, calls: CallCounter, breakpoints: Breakpoints) {
  const node = (name: string) => () => {
    calls.hit(name);
    return { log: name };
  };
  return new StateGraph(LogState)
    .addNode("plan", node("plan"))
    .addNode("act", node("act"))
    .addNode("report", node("report"))
    .addEdge(START, "plan")
    .addEdge("plan", "act")
    .addEdge("act", "report")
    .compile({ checkpointer: saver, ...breakpoints });
}

/** Item 8: static breakpoints, continued with invoke(null, config). */
export function describeBreakpoints(use: UseSaver): void {
  describe("interruptBefore / interruptAfter", () => {
    it("interruptBefore stops before the node with __interrupt__: [] and invoke(null) continues", () =>
      stopAndContinue(use(), { interruptBefore: ["act"] }));
    it("interruptAfter stops after the node with __interrupt__: [] and invoke(null) continues", () =>
      stopAndContinue(use(), { interruptAfter: ["plan"] }));
    it('"*" stops before every superstep', () => everyStep(use(), { interruptBefore: "*" }));
    it('"*" stops after every superstep', () => everyStep(use(), { interruptAfter: "*" }));
    it("refuses invoke(null) on a thread that has never run", () => continueNewThread(use()));
    it("a call's own interruptBefore / interruptAfter pause a graph compiled without them", () =>
      callBreakpoints(use()));
    it("a call's breakpoint naming no node is refused before anything runs", () => callBreakpointTypo(use()));
    for (const breakpoints of [{ interruptBefore: ["act"] }, { interruptAfter: ["plan"] }]) {
      it(`streams the stop at ${Object.keys(breakpoints)[0]} as a chunk of its own: { __interrupt__: [] }`, () =>
        streamedStop(use(), breakpoints));
    }
  });
}

async function streamedStop(saver: CheckpointSaver, breakpoints: Breakpoints): Promise<void> {
  const graph = pipeline(saver, new CallCounter(), breakpoints);
  const chunks = await collect(
    await graph.stream(
      { value: "v" },
      { ...threadConfig("streamed-stop"), streamMode: ["updates", "values"] },
    ),
  );
  // As LangGraph: the last chunk of each mode says the run stopped, as an interrupt() pause does.
  expect(chunks.slice(-2)).toEqual([
    ["updates", { __interrupt__: [] }],
    ["values", { __interrupt__: [] }],
  ]);
  expect(chunks).toContainEqual(["values", { value: "v", log: ["plan"] }]);
}

async function stopAndContinue(saver: CheckpointSaver, breakpoints: Breakpoints): Promise<void> {
  const calls = new CallCounter();
  const graph = pipeline(saver, calls, breakpoints);
  const config = threadConfig("breakpoint");
  const paused = await graph.invoke({ value: "v" }, config);
  expect(paused).toEqual({ value: "v", log: ["plan"], __interrupt__: [] });
  expect(calls.of("act")).toBe(0);
  const state = await graph.getState(config);
  expect(state.next).toEqual(["act"]);
  // What a producer without the graph's code works out from the stored checkpoint: the same tasks.
  const stored = await saver.getTuple({ threadId: config.configurable.thread_id, ns: "" });
  expect(tasksOfCheckpoint(stored?.checkpoint as Checkpoint, stored?.metadata)).toEqual(
    state.tasks.map(({ id, name }) => ({ id, name })),
  );
  const done = await graph.invoke(null, config);
  expect(done).toEqual({ value: "v", log: ["plan", "act", "report"] });
  expect([calls.of("plan"), calls.of("act"), calls.of("report")]).toEqual([1, 1, 1]);
}

async function everyStep(saver: CheckpointSaver, breakpoints: Breakpoints): Promise<void> {
  const graph = pipeline(saver, new CallCounter(), breakpoints);
  const config = threadConfig("every-step");
  const stops: string[][] = [];
  let result = await graph.invoke({ value: "v" }, config);
  while (result.__interrupt__ !== undefined && stops.length < 10) {
    stops.push((await graph.getState(config)).next);
    result = await graph.invoke(null, config);
  }
  const expected =
    "interruptBefore" in breakpoints ? [["plan"], ["act"], ["report"]] : [["act"], ["report"], []];
  expect(stops).toEqual(expected);
  expect(result.log).toEqual(["plan", "act", "report"]);
}

async function continueNewThread(saver: CheckpointSaver): Promise<void> {
  const graph = pipeline(saver, new CallCounter(), { interruptBefore: ["act"] });
  const error = await expectCode(graph.invoke(null, threadConfig("null-new")), "INVALID_INPUT");
  expect(error.message).toContain("start it with an input");
}

async function callBreakpoints(saver: CheckpointSaver): Promise<void> {
  const calls = new CallCounter();
  const graph = pipeline(saver, calls, {});
  const before = threadConfig("call-before");
  expect(await graph.invoke({ value: "v" }, { ...before, interruptBefore: ["act"] })).toEqual({
    value: "v",
    log: ["plan"],
    __interrupt__: [],
  });
  expect(calls.of("act")).toBe(0);
  expect((await graph.getState(before)).next).toEqual(["act"]);
  expect((await graph.invoke(null, before)).log).toEqual(["plan", "act", "report"]);

  const after = threadConfig("call-after");
  const chunks = await collect(
    await graph.stream({ value: "v" }, { ...after, interruptAfter: ["act"], streamMode: "updates" }),
  );
  expect(chunks.at(-1)).toEqual({ __interrupt__: [] });
  expect((await graph.getState(after)).next).toEqual(["report"]);
}

async function callBreakpointTypo(saver: CheckpointSaver): Promise<void> {
  const calls = new CallCounter();
  const graph = pipeline(saver, calls, {});
  const error = await expectCode(
    graph.invoke({ value: "v" }, { ...threadConfig("call-typo"), interruptBefore: ["send_email"] }),
    "INVALID_INPUT",
  );
  expect(error.message).toContain('"send_email", which is not a node');
  expect(calls.of("plan")).toBe(0);
}
