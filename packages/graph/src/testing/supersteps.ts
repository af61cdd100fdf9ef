import type { CheckpointSaver } from "@layover/checkpoint";
import { describe, expect, it } from "vitest";
import { Annotation, Command, END, interrupt, Send, START, StateGraph } from "../index.ts";
import { appendReducer, collect, expectCode, LogState, threadConfig, type UseSaver } from "./helpers.ts";

/** Item 1: bulk-synchronous supersteps. Item 12: Send fan-out joined through a reducer. */
export function describeSupersteps(use: UseSaver): void {
  describe("supersteps", () => {
    it("runs parallel tasks against the same snapshot and applies their writes at once", () =>
      sameSnapshot(use()));
    it("commits one checkpoint per superstep, after the input checkpoint", () => onePerStep(use()));
    it("folds parallel writes to a reducer key in node order", () => reducerFold(use()));
    it("folds parallel writes in node-name order, not the order nodes were added, as LangGraph", () =>
      nameOrderFold(use()));
    it("refuses two writes to a last-value key in one superstep with InvalidUpdateError", () =>
      twoLastValueWrites(use()));
    it("plans the next superstep only from channels the last one updated", () => planFromUpdates(use()));
    it("looks up a router's true/false or number in its path map, as LangGraph does", () =>
      pathMapKeys(use()));
    it("gives nodes, routers and subgraph nodes the call's config.context and tags", () => runContext(use()));
  });
  describe("Send", () => {
    it("fans out one push task per Send and joins their writes through the reducer", () => sendFanOut(use()));
  });
}

async function sameSnapshot(saver: CheckpointSaver): Promise<void> {
  const seen: Record<string, string> = {};
  const graph = new StateGraph(LogState)
    .addNode("a", (state) => {
      seen.a = state.value;
      return { value: "from a", log: "a" };
    })
    .addNode("b", async (state) => {
      await Promise.resolve();
      seen.b = state.value;
      return { log: "b" };
    })
    .addNode("c", (state) => {
      seen.c = state.value;
      return { log: "c" };
    })
    .addEdge(START, "a")
    .addEdge(START, "b")
    .addEdge(["a", "b"], "c")
    .addEdge("c", END)
    .compile({ checkpointer: saver });
  const result = await graph.invoke({ value: "input" }, threadConfig("snapshot"));
  expect(seen).toEqual({ a: "input", b: "input", c: "from a" });
  expect(result).toEqual({ value: "from a", log: ["a", "b", "c"] });
}

async function onePerStep(saver: CheckpointSaver): Promise<void> {
  const graph = new StateGraph(LogState)
    .addNode("a", () => ({ log: "a" }))
    .addNode("b", () => ({ log: "b" }))
    .addNode("c", () => ({ log: "c" }))
    .addEdge(START, "a")
    .addEdge(START, "b")
    .addEdge("a", "c")
    .addEdge("c", END)
    .compile({ checkpointer: saver });
  const config = threadConfig("per-step");
  await graph.invoke({ value: "x" }, config);
  const history = await collect(graph.getStateHistory(config));
  expect(history.map((snapshot) => snapshot.metadata?.step)).toEqual([1, 0, -1]);
  expect(history.map((snapshot) => snapshot.metadata?.source)).toEqual(["loop", "loop", "input"]);
  expect(history[1]?.metadata?.writes).toEqual({ a: { log: "a" }, b: { log: "b" } });
  expect(history[0]?.values.log).toEqual(["a", "b", "c"]);
}

async function reducerFold(saver: CheckpointSaver): Promise<void> {
  const State = Annotation.Root({
    total: Annotation<number>({ reducer: (a, b) => a + b, default: () => 0 }),
  });
  const graph = new StateGraph(State)
    .addNode("one", () => ({ total: 1 }))
    .addNode("ten", () => ({ total: 10 }))
    .addNode("hundred", () => ({ total: 100 }))
    .addEdge(START, "one")
    .addEdge(START, "ten")
    .addEdge(START, "hundred")
    .compile({ checkpointer: saver });
  expect(await graph.invoke({ total: 1000 }, threadConfig("fold"))).toEqual({ total: 1111 });
}

async function nameOrderFold(saver: CheckpointSaver): Promise<void> {
  // LangGraph applies a superstep's writes sorted by task path: pull tasks by node name, then
  // sends in order. An appending reducer (a message list) shows the order.
  const graph = new StateGraph(LogState)
    .addNode("zeta", () => ({ log: "zeta" }))
    .addNode("alpha", () => ({ log: `alpha:${String(interrupt("go?"))}` }))
    .addNode("mu", () => ({ log: "mu" }))
    .addNode("w", (arg: { from: string }) => ({ log: `w from ${arg.from}` }))
    .addEdge(START, "zeta")
    .addEdge(START, "alpha")
    .addEdge(START, "mu")
    .addConditionalEdges("zeta", () => [new Send("w", { from: "zeta" })])
    .addConditionalEdges("mu", () => [new Send("w", { from: "mu" })])
    .compile({ checkpointer: saver });
  const config = threadConfig("name-order");
  expect((await graph.invoke({ value: "x" }, config)).log).toEqual(["mu", "zeta"]);
  expect((await graph.invoke(new Command({ resume: "yes" }), config)).log).toEqual([
    "alpha:yes",
    "mu",
    "zeta",
    "w from mu",
    "w from zeta",
  ]);
}

async function twoLastValueWrites(saver: CheckpointSaver): Promise<void> {
  const graph = new StateGraph(LogState)
    .addNode("a", () => ({ value: "a" }))
    .addNode("b", () => ({ value: "b" }))
    .addEdge(START, "a")
    .addEdge(START, "b")
    .compile({ checkpointer: saver });
  const config = threadConfig("last-value");
  const error = await expectCode(graph.invoke({ value: "x" }, config), "INVALID_UPDATE");
  expect(error.name).toBe("InvalidUpdateError");
  expect(error.message).toContain('"value" received 2 values');
  expect(error.message).toContain("reducer");
  expect((await graph.getState(config)).values).toEqual({ value: "x", log: [] });
}

async function planFromUpdates(saver: CheckpointSaver): Promise<void> {
  const graph = new StateGraph(LogState)
    .addNode("a", () => ({ log: "a" }))
    .addNode("b", () => ({ log: "b" }))
    .addNode("c", () => ({ log: "c" }))
    .addEdge(START, "a")
    .addEdge("a", "b")
    .addEdge("b", "c")
    .compile({ checkpointer: saver });
  const config = threadConfig("plan");
  const result = await graph.invoke({ value: "x" }, config);
  expect(result.log).toEqual(["a", "b", "c"]);
  const history = await collect(graph.getStateHistory(config));
  expect(history.map((snapshot) => snapshot.next)).toEqual([[], ["c"], ["b"], ["a"]]);
}

async function pathMapKeys(saver: CheckpointSaver): Promise<void> {
  const graph = new StateGraph(LogState)
    .addNode("check", () => ({ log: "check" }))
    .addNode("yes", () => ({ log: "yes" }))
    .addNode("second", () => ({ log: "second" }))
    .addEdge(START, "check")
    .addConditionalEdges("check", (state) => state.value === "go", { true: "yes", false: END })
    .addConditionalEdges("yes", (state) => state.log.length, { 2: "second", 3: END })
    .compile({ checkpointer: saver });
  expect((await graph.invoke({ value: "go" }, threadConfig("path-map"))).log).toEqual([
    "check",
    "yes",
    "second",
  ]);
  expect((await graph.invoke({ value: "stop" }, threadConfig("path-map"))).log).toEqual(["check"]);
}

async function runContext(saver: CheckpointSaver): Promise<void> {
  const seen: unknown[] = [];
  const inner = new StateGraph(LogState)
    .addNode("inner", (_state, config) => {
      seen.push(["inner", config.context, config.tags]);
      return { log: "inner" };
    })
    .addEdge(START, "inner")
    .compile();
  const graph = new StateGraph(LogState)
    .addNode("outer", (_state, config) => {
      seen.push(["outer", config.context, config.tags]);
      return { log: "outer" };
    })
    .addNode("sub", inner)
    .addEdge(START, "outer")
    .addConditionalEdges("outer", (_state, config) => {
      seen.push(["router", config.context, config.tags]);
      return "sub";
    })
    .compile({ checkpointer: saver });
  const context = { userId: "u-7", model: "small" };
  await graph.invoke({ value: "v" }, { ...threadConfig("context"), context, tags: ["nightly"] });
  expect(seen).toEqual([
    ["outer", context, ["nightly"]],
    ["router", context, ["nightly"]],
    ["inner", context, ["nightly"]],
  ]);
}

async function sendFanOut(saver: CheckpointSaver): Promise<void> {
  const State = Annotation.Root({
    subjects: Annotation<string[]>(),
    jokes: Annotation<string[], string | string[]>({ reducer: appendReducer, default: () => [] }),
    summary: Annotation<string>(),
  });
  const graph = new StateGraph(State)
    .addNode("plan", () => ({}))
    .addNode("joke", (arg: { subject: string }) => ({ jokes: `joke about ${arg.subject}` }))
    .addNode("summarise", (state) => ({ summary: `${state.jokes.length} jokes` }))
    .addEdge(START, "plan")
    .addConditionalEdges("plan", (state) => state.subjects.map((subject) => new Send("joke", { subject })))
    .addEdge("joke", "summarise")
    .addEdge("summarise", END)
    .compile({ checkpointer: saver });
  const config = threadConfig("send");
  const result = await graph.invoke({ subjects: ["cats", "dogs", "owls"] }, config);
  expect(result.jokes).toEqual(["joke about cats", "joke about dogs", "joke about owls"]);
  expect(result.summary).toBe("3 jokes");
  const history = await collect(graph.getStateHistory(config));
  expect(history.map((snapshot) => snapshot.next)).toEqual([
    [],
    ["summarise"],
    ["joke", "joke", "joke"],
    ["plan"],
  ]);
}
