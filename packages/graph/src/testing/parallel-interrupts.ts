import type { CheckpointSaver } from "@layover/checkpoint";
import { describe, expect, it } from "vitest";
import { Annotation, Command, END, type Interrupt, interrupt, Send, START, StateGraph } from "../index.ts";
import {
  appendReducer,
  CallCounter,
  collect,
  expectCode,
  LogState,
  threadConfig,
  type UseSaver,
} from "./helpers.ts";

/** Three parallel askers and one sibling that finishes; `after` joins them all. */
function parallelGraph(saver: CheckpointSaver, calls: CallCounter) {
  const asker = (name: string) => () => {
    calls.hit(name);
    return { log: `${name}:${interrupt(`question ${name}`)}` };
  };
  return new StateGraph(LogState)
    .addNode("a", asker("a"))
    .addNode("b", asker("b"))
    .addNode("c", asker("c"))
    .addNode("sibling", () => {
      calls.hit("sibling");
      return { log: "sibling" };
    })
    .addNode("after", () => {
      calls.hit("after");
      return { log: "after" };
    })
    .addEdge(START, "a")
    .addEdge(START, "b")
    .addEdge(START, "c")
    .addEdge(START, "sibling")
    .addEdge(["a", "b", "c", "sibling"], "after")
    .addEdge("after", END)
    .compile({ checkpointer: saver });
}

/** Interrupt id by its value ("question a" → id). */
function idsByValue(interrupts: readonly Interrupt[] | undefined): Record<string, string> {
  return Object.fromEntries((interrupts ?? []).map((record) => [record.value as string, record.id]));
}

/** Items 4 and 5: several pending interrupts, partial resumes, siblings not re-run. */
export function describeParallelInterrupts(use: UseSaver): void {
  describe("parallel interrupts", () => {
    it("gives each pending interrupt a stable id, the same in invoke and getState", () => stableIds(use()));
    it("resumes several at once with a map; a partial map leaves the rest pending", () => partialMap(use()));
    it("refuses a plain resume while several interrupts are pending, listing their ids", () =>
      ambiguousResume(use()));
    it("refuses a resume map with an unknown interrupt id, and writes nothing", () => unknownId(use()));
    it("gives each Send's push task its own interrupt, resumed together with a map", () =>
      sendInterrupts(use()));
  });
  describe("siblings of an interrupted task", () => {
    it("are not re-run on resume, and their reducer writes are applied once", () => siblingsOnce(use()));
    it("keep a finished sibling's result in getState until the superstep commits", () =>
      siblingResult(use()));
    it('stream one { __interrupt__ } chunk per paused task in "updates", and replay a finished sibling as cached', () =>
      streamedPerTask(use()));
  });
}

async function stableIds(saver: CheckpointSaver): Promise<void> {
  const graph = parallelGraph(saver, new CallCounter());
  const config = threadConfig("ids");
  const paused = await graph.invoke({ value: "x" }, config);
  const ids = idsByValue(paused.__interrupt__);
  expect(Object.keys(ids)).toEqual(["question a", "question b", "question c"]);
  expect(new Set(Object.values(ids)).size).toBe(3);
  const state = await graph.getState(config);
  expect(idsByValue(state.tasks.flatMap((task) => task.interrupts))).toEqual(ids);
  const again = await graph.invoke(null, config);
  expect(idsByValue(again.__interrupt__)).toEqual(ids);
}

async function partialMap(saver: CheckpointSaver): Promise<void> {
  const calls = new CallCounter();
  const graph = parallelGraph(saver, calls);
  const config = threadConfig("partial");
  const ids = idsByValue((await graph.invoke({ value: "x" }, config)).__interrupt__);
  const partial = await graph.invoke(
    new Command({ resume: { [ids["question a"] as string]: 1, [ids["question c"] as string]: 3 } }),
    config,
  );
  expect(partial.__interrupt__).toEqual([{ id: ids["question b"], value: "question b" }]);
  const state = await graph.getState(config);
  expect(state.next).toEqual(["b"]);
  expect(state.tasks.find((task) => task.name === "a")?.result).toEqual({ log: "a:1" });
  const done = await graph.invoke(new Command({ resume: 2 }), config);
  expect(done.log).toEqual(["a:1", "b:2", "c:3", "sibling", "after"]);
  expect(done.__interrupt__).toBeUndefined();
  expect([calls.of("a"), calls.of("b"), calls.of("c")]).toEqual([2, 2, 2]);
}

async function ambiguousResume(saver: CheckpointSaver): Promise<void> {
  const calls = new CallCounter();
  const graph = parallelGraph(saver, calls);
  const config = threadConfig("ambiguous");
  const ids = Object.values(idsByValue((await graph.invoke({ value: "x" }, config)).__interrupt__));
  const error = await expectCode(graph.invoke(new Command({ resume: "yes" }), config), "AMBIGUOUS_RESUME");
  expect(error.name).toBe("AmbiguousResumeError");
  for (const id of ids) expect(error.message).toContain(id);
  expect((error as { pendingIds?: unknown }).pendingIds).toEqual(ids);
  expect([calls.of("a"), calls.of("b"), calls.of("c")]).toEqual([1, 1, 1]);
  expect((await graph.getState(config)).tasks.flatMap((task) => task.interrupts)).toHaveLength(3);
}

async function unknownId(saver: CheckpointSaver): Promise<void> {
  const graph = parallelGraph(saver, new CallCounter());
  const config = threadConfig("unknown-id");
  const ids = idsByValue((await graph.invoke({ value: "x" }, config)).__interrupt__);
  const unknown = "00000000-0000-5000-a000-000000000000";
  const error = await expectCode(
    graph.invoke(new Command({ resume: { [ids["question a"] as string]: 1, [unknown]: 2 } }), config),
    "UNKNOWN_INTERRUPT",
  );
  expect(error.name).toBe("UnknownInterruptError");
  expect(error.message).toContain(unknown);
  expect(error.message).toContain(ids["question b"]);
  const state = await graph.getState(config);
  expect(state.tasks.flatMap((task) => task.interrupts)).toHaveLength(3);
}

async function siblingsOnce(saver: CheckpointSaver): Promise<void> {
  const calls = new CallCounter();
  const graph = parallelGraph(saver, calls);
  const config = threadConfig("siblings");
  const ids = idsByValue((await graph.invoke({ value: "x" }, config)).__interrupt__);
  // Each pause shows what the superstep has finished so far (as LangGraph), stored once it commits.
  const first = await graph.invoke(new Command({ resume: { [ids["question a"] as string]: 1 } }), config);
  expect(first.log).toEqual(["a:1", "sibling"]);
  const second = await graph.invoke(new Command({ resume: { [ids["question b"] as string]: 2 } }), config);
  expect(second.log).toEqual(["a:1", "b:2", "sibling"]);
  // getState shows them too, as LangGraph's (the checkpoint itself holds them only once committed).
  const state = await graph.getState(config);
  expect(state.values.log).toEqual(["a:1", "b:2", "sibling"]);
  expect(state.next).toEqual(["c"]);
  const stored = await graph.getState({
    configurable: { ...config.configurable, ...state.config.configurable },
  });
  expect(stored.values.log).toEqual([]);
  const done = await graph.invoke(new Command({ resume: 3 }), config);
  expect(done.log).toEqual(["a:1", "b:2", "c:3", "sibling", "after"]);
  expect(calls.of("sibling")).toBe(1);
  expect(calls.of("after")).toBe(1);
  expect([calls.of("a"), calls.of("b"), calls.of("c")]).toEqual([2, 2, 2]);
}

async function siblingResult(saver: CheckpointSaver): Promise<void> {
  const graph = parallelGraph(saver, new CallCounter());
  const config = threadConfig("sibling-result");
  await graph.invoke({ value: "x" }, config);
  const state = await graph.getState(config);
  expect(state.next).toEqual(["a", "b", "c"]);
  const sibling = state.tasks.find((task) => task.name === "sibling");
  expect(sibling).toMatchObject({ interrupts: [], result: { log: "sibling" } });
}

async function sendInterrupts(saver: CheckpointSaver): Promise<void> {
  const State = Annotation.Root({
    items: Annotation<string[]>(),
    reviews: Annotation<string[], string | string[]>({ reducer: appendReducer, default: () => [] }),
  });
  const graph = new StateGraph(State)
    .addNode("plan", () => ({}))
    .addNode("review", (arg: { item: string }) => ({
      reviews: `${arg.item}: ${interrupt(`review ${arg.item}`)}`,
    }))
    .addEdge(START, "plan")
    .addConditionalEdges("plan", (state) => state.items.map((item) => new Send("review", { item })))
    .compile({ checkpointer: saver });
  const config = threadConfig("send-interrupts");
  const paused = await graph.invoke({ items: ["flight", "hotel"] }, config);
  const ids = idsByValue(paused.__interrupt__);
  expect(Object.keys(ids)).toEqual(["review flight", "review hotel"]);
  const resume = { [ids["review hotel"] as string]: "no", [ids["review flight"] as string]: "yes" };
  const done = await graph.invoke(new Command({ resume }), config);
  expect(done.reviews).toEqual(["flight: yes", "hotel: no"]);
}

async function streamedPerTask(saver: CheckpointSaver): Promise<void> {
  const graph = parallelGraph(saver, new CallCounter());
  const config = { ...threadConfig("streamed-per-task"), streamMode: "updates" as const };
  const first = await collect(await graph.stream({ value: "x" }, config));
  const asked = first.filter((chunk) => "__interrupt__" in chunk);
  // As LangGraph.js: each paused task's chunk carries its own interrupt.
  expect(asked.map((chunk) => chunk.__interrupt__.map((i: Interrupt) => i.value))).toEqual(
    expect.arrayContaining([["question a"], ["question b"], ["question c"]]),
  );
  expect(asked).toHaveLength(3);
  expect(first).toContainEqual({ sibling: { log: "sibling" } });

  const ids = idsByValue(asked.flatMap((chunk) => chunk.__interrupt__));
  const resumed = await collect(
    await graph.stream(new Command({ resume: { [ids["question a"] as string]: 1 } }), config),
  );
  // The sibling that finished before is replayed first, marked cached; then the resumed task's
  // update; b and c, still waiting, say so again.
  expect(resumed[0]).toEqual({ __metadata__: { cached: true }, sibling: { log: "sibling" } });
  expect(resumed).toContainEqual({ a: { log: "a:1" } });
  expect(resumed.filter((chunk) => "__interrupt__" in chunk)).toHaveLength(2);
}
