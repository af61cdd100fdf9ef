import type { CheckpointSaver } from "@layover/checkpoint";
import { describe, expect, it } from "vitest";
import { Command, interrupt, START, StateGraph, type StreamMode } from "../index.ts";
import { collect, LogState, threadConfig, type UseSaver } from "./helpers.ts";

function streamingGraph(saver: CheckpointSaver) {
  return new StateGraph(LogState)
    .addNode("a", (_state, config) => {
      config.writer({ progress: "a half way" });
      return { log: "a" };
    })
    .addNode("b", () => ({ log: "b", value: "b" }))
    .addEdge(START, "a")
    .addEdge("a", "b")
    .compile({ checkpointer: saver });
}

/** Everything `stream()` yields for one run of `streamingGraph` in the given mode(s). */
async function chunks(saver: CheckpointSaver, streamMode: StreamMode | StreamMode[] | undefined) {
  const config =
    streamMode === undefined ? threadConfig("stream") : { ...threadConfig("stream"), streamMode };
  return collect(await streamingGraph(saver).stream({ value: "v" }, config));
}

/** stream() with "values", "updates", "custom", "debug" and a list of modes. */
export function describeStreaming(use: UseSaver): void {
  describe("stream modes", () => {
    it('"values" yields the whole state after the input and after each superstep', () => values(use()));
    it('"updates" (the default) yields each node\'s update under its name', () => updates(use()));
    it('"updates" reports an interrupt under __interrupt__', () => updatesInterrupt(use()));
    it('"values" reports an interrupt under __interrupt__ and a resume starts from the paused state', () =>
      valuesInterrupt(use()));
    it('"values" shows what a paused superstep finished before the pause', () => valuesBesidePause(use()));
    it('"updates" yields each task\'s update when the task finishes', () => updatesAsTheyFinish(use()));
    it('"tasks" and "checkpoints" carry debug\'s task and checkpoint payloads on their own', () =>
      taskAndCheckpointModes(use()));
    it('refuses a mode it does not stream ("messages") with a typed error saying what to use', () =>
      unknownMode(use()));
    it('"custom" yields what nodes send through config.writer', () => custom(use()));
    it('"debug" yields task, task_result and checkpoint events with their step', () => debug(use()));
    it('"checkpoints" gives each checkpoint once: a pause makes none, a resume starts from its own', () =>
      checkpointsOnce(use()));
    it("a list of modes yields [mode, chunk] pairs in the order they happen", () => multi(use()));
    it("ends the stream with the run's error", () => streamError(use()));
  });
}

async function values(saver: CheckpointSaver): Promise<void> {
  const expected = [
    { value: "v", log: [] },
    { value: "v", log: ["a"] },
    { value: "b", log: ["a", "b"] },
  ];
  expect(await chunks(saver, "values")).toEqual(expected);
}

async function updates(saver: CheckpointSaver): Promise<void> {
  const expected = [{ a: { log: "a" } }, { b: { log: "b", value: "b" } }];
  expect(await chunks(saver, "updates")).toEqual(expected);
  // LangGraph's StateGraph streams updates unless told otherwise.
  expect(await chunks(saver, undefined)).toEqual(expected);
}

async function valuesInterrupt(saver: CheckpointSaver): Promise<void> {
  const graph = new StateGraph(LogState)
    .addNode("ask", () => ({ log: interrupt("ok?") }))
    .addEdge(START, "ask")
    .compile({ checkpointer: saver });
  const config = { ...threadConfig("values-interrupt"), streamMode: "values" as const };
  const paused = await collect(await graph.stream({ value: "v" }, config));
  expect(paused).toEqual([
    { value: "v", log: [] },
    { __interrupt__: [{ id: expect.any(String), value: "ok?" }] },
  ]);
  const resumed = await collect(await graph.stream(new Command({ resume: "yes" }), config));
  expect(resumed).toEqual([
    { value: "v", log: [] },
    { value: "v", log: ["yes"] },
  ]);
}

async function updatesAsTheyFinish(saver: CheckpointSaver): Promise<void> {
  const graph = new StateGraph(LogState)
    .addNode("slow", async () => {
      await new Promise((resolve) => setTimeout(resolve, 30));
      return { log: "slow" };
    })
    .addNode("fast", () => ({ log: "fast" }))
    .addEdge(START, "slow")
    .addEdge(START, "fast")
    .compile({ checkpointer: saver });
  const config = { ...threadConfig("updates-as-they-finish"), streamMode: "updates" as const };
  // As LangGraph: a task's update streams when the task finishes, not when its superstep does.
  expect(await collect(await graph.stream({ value: "v" }, config))).toEqual([
    { fast: { log: "fast" } },
    { slow: { log: "slow" } },
  ]);
  // Applied in LangGraph's write order (by node name), whichever finished first.
  expect((await graph.getState(config)).values.log).toEqual(["fast", "slow"]);
}

async function valuesBesidePause(saver: CheckpointSaver): Promise<void> {
  const graph = new StateGraph(LogState)
    .addNode("ask", () => ({ log: interrupt("ok?") }))
    .addNode("sibling", () => ({ log: "sibling" }))
    .addEdge(START, "ask")
    .addEdge(START, "sibling")
    .compile({ checkpointer: saver });
  const config = { ...threadConfig("values-beside-pause"), streamMode: "values" as const };
  // As LangGraph.js 1.7.3's: the pause as its task pauses, then the state with what the paused
  // superstep finished.
  expect(await collect(await graph.stream({ value: "v" }, config))).toEqual([
    { value: "v", log: [] },
    { __interrupt__: [{ id: expect.any(String), value: "ok?" }] },
    { value: "v", log: ["sibling"] },
  ]);
}

async function taskAndCheckpointModes(saver: CheckpointSaver): Promise<void> {
  const streamed = (await chunks(saver, ["tasks", "checkpoints"])) as Array<
    [string, Record<string, unknown>]
  >;
  expect(streamed.map(([mode, payload]) => [mode, payload.name ?? payload.next])).toEqual([
    ["checkpoints", ["a"]], // the input's checkpoint, where the run goes on from
    ["tasks", "a"],
    ["tasks", "a"],
    ["checkpoints", ["b"]],
    ["tasks", "b"],
    ["tasks", "b"],
    ["checkpoints", []],
  ]);
  expect(streamed[2]?.[1]).toMatchObject({ name: "a", result: { log: "a" }, interrupts: [] });
  // As LangGraph.js's: a checkpoint comes with its parent's config and its tasks.
  const [, input] = streamed[0] as [string, Record<string, any>];
  const [, afterA] = streamed[3] as [string, Record<string, any>];
  expect(afterA.parentConfig.configurable.checkpoint_id).toBe(input.config.configurable.checkpoint_id);
  expect(afterA.tasks).toMatchObject([{ name: "b", interrupts: [] }]);
}

async function unknownMode(saver: CheckpointSaver): Promise<void> {
  const graph = streamingGraph(saver);
  const config = { ...threadConfig("stream-unknown"), streamMode: "tools" as StreamMode };
  await expect(graph.stream({ value: "v" }, config)).rejects.toMatchObject({
    code: "INVALID_INPUT",
    message: expect.stringContaining('Unknown stream mode "tools"'),
  });
}

async function updatesInterrupt(saver: CheckpointSaver): Promise<void> {
  const graph = new StateGraph(LogState)
    .addNode("ask", () => ({ log: interrupt("ok?") }))
    .addEdge(START, "ask")
    .compile({ checkpointer: saver });
  const config = { ...threadConfig("updates-interrupt"), streamMode: "updates" as const };
  const paused = await collect(await graph.stream({ value: "v" }, config));
  expect(paused).toEqual([{ __interrupt__: [{ id: expect.any(String), value: "ok?" }] }]);
  const resumed = await collect(await graph.stream(new Command({ resume: "yes" }), config));
  expect(resumed).toEqual([{ ask: { log: "yes" } }]);
}

async function custom(saver: CheckpointSaver): Promise<void> {
  expect(await chunks(saver, "custom")).toEqual([{ progress: "a half way" }]);
}

async function debug(saver: CheckpointSaver): Promise<void> {
  const events = (await chunks(saver, "debug")) as Array<{
    type: string;
    step: number;
    payload: { name?: string };
  }>;
  expect(events.map((event) => [event.type, event.step, event.payload.name])).toEqual([
    ["checkpoint", -1, undefined],
    ["task", 0, "a"],
    ["task_result", 0, "a"],
    ["checkpoint", 0, undefined],
    ["task", 1, "b"],
    ["task_result", 1, "b"],
    ["checkpoint", 1, undefined],
  ]);
  // A task's result is its update, as LangGraph.js streams it.
  expect(events[1]?.payload).toMatchObject({ name: "a", interrupts: [] });
  expect(events[2]?.payload).toMatchObject({ name: "a", result: { log: "a" }, interrupts: [], error: null });
}

async function multi(saver: CheckpointSaver): Promise<void> {
  expect(await chunks(saver, ["updates", "custom", "values"])).toEqual([
    ["values", { value: "v", log: [] }],
    ["custom", { progress: "a half way" }],
    ["updates", { a: { log: "a" } }],
    ["values", { value: "v", log: ["a"] }],
    ["updates", { b: { log: "b", value: "b" } }],
    ["values", { value: "b", log: ["a", "b"] }],
  ]);
}

async function streamError(saver: CheckpointSaver): Promise<void> {
  const graph = new StateGraph(LogState)
    .addNode("boom", () => {
      throw new Error("node failed");
    })
    .addEdge(START, "boom")
    .compile({ checkpointer: saver });
  const stream = await graph.stream(
    { value: "v" },
    { ...threadConfig("stream-error"), streamMode: "updates" },
  );
  await expect(collect(stream)).rejects.toThrow("node failed");
}

async function checkpointsOnce(saver: CheckpointSaver): Promise<void> {
  const graph = new StateGraph(LogState)
    .addNode("plan", () => ({ log: "plan" }))
    .addNode("ask", () => ({ log: String(interrupt("ok?")) }))
    .addEdge(START, "plan")
    .addEdge("plan", "ask")
    .compile({ checkpointer: saver });
  const config = { ...threadConfig("checkpoints-once"), streamMode: "checkpoints" as const };
  const idOf = (chunk: Record<string, any>) => chunk.config.configurable.checkpoint_id as string;
  const paused = (await collect(await graph.stream({ value: "v" }, config))).map(idOf);
  expect(new Set(paused).size).toBe(paused.length);
  expect(paused).toHaveLength(2); // the input's, then plan's; the pause at ask stores none
  const resumed = (await collect(await graph.stream(new Command({ resume: "yes" }), config))).map(idOf);
  expect(resumed[0]).toBe(paused.at(-1));
  expect(resumed).toHaveLength(2);
}
