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
    it('"updates" yields each node\'s update under its name', () => updates(use()));
    it('"updates" reports an interrupt under __interrupt__', () => updatesInterrupt(use()));
    it('"custom" yields what nodes send through config.writer', () => custom(use()));
    it('"debug" yields task, task_result and checkpoint events with their step', () => debug(use()));
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
  expect(await chunks(saver, undefined)).toEqual(expected);
}

async function updates(saver: CheckpointSaver): Promise<void> {
  expect(await chunks(saver, "updates")).toEqual([{ a: { log: "a" } }, { b: { log: "b", value: "b" } }]);
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
    ["task", 0, "a"],
    ["task_result", 0, "a"],
    ["checkpoint", 0, undefined],
    ["task", 1, "b"],
    ["task_result", 1, "b"],
    ["checkpoint", 1, undefined],
  ]);
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
