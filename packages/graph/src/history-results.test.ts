// getStateHistory shows what each superstep's tasks wrote (`result`), as LangGraph.js's history
// does (recorded by running the same graph): each task its own update, a Send task its own, a
// task that wrote nothing none; an entrypoint's task its value.
import { expect, it } from "vitest";
import { Annotation, END, entrypoint, MemorySaver, Send, START, StateGraph } from "./index.ts";

it("history gives each task the update it wrote in the superstep that followed its checkpoint", async () => {
  const State = Annotation.Root({
    n: Annotation<number>({ reducer: (a, b) => a + b, default: () => 0 }),
    log: Annotation<string>,
  });
  const graph = new StateGraph(State)
    .addNode("a", () => ({ n: 1, log: "a" }))
    .addNode("b", () => ({ n: 10 }))
    .addNode("quiet", () => ({}))
    .addNode("w", (arg: { k: number }) => ({ n: arg.k }))
    .addEdge(START, "a")
    .addConditionalEdges("a", () => [new Send("w", { k: 100 }), new Send("w", { k: 200 }), "b", "quiet"])
    .addEdge("b", END)
    .compile({ checkpointer: new MemorySaver() });
  const config = { configurable: { thread_id: "history-results" } };
  await graph.invoke({ n: 0 }, config);
  const steps: Array<[number | undefined, unknown]> = [];
  for await (const snapshot of graph.getStateHistory(config))
    steps.push([snapshot.metadata?.step, snapshot.tasks.map((t) => [t.name, t.result])]);
  // As LangGraph's: a superstep's Send tasks first, then its node tasks.
  expect(steps).toEqual([
    [1, []],
    [
      0,
      [
        ["w", { n: 100 }],
        ["w", { n: 200 }],
        ["b", { n: 10 }],
        ["quiet", undefined],
      ],
    ],
    [-1, [["a", { n: 1, log: "a" }]]],
  ]);
});

it("history gives each of a node's tasks its own result when the node ran as a node and as Sends in one superstep", async () => {
  const State = Annotation.Root({ n: Annotation<number>({ reducer: (a, b) => a + b, default: () => 0 }) });
  const graph = new StateGraph(State)
    .addNode("a", () => ({ n: 1 }))
    .addNode("w", (arg: { n: number; k?: number }) => ({ n: arg.k ?? 10 }))
    .addEdge(START, "a")
    .addConditionalEdges("a", () => [new Send("w", { k: 100 }), "w", new Send("w", { k: 200 })])
    .compile({ checkpointer: new MemorySaver() });
  const config = { configurable: { thread_id: "history-mixed" } };
  await graph.invoke({ n: 0 }, config);
  const results: unknown[] = [];
  let written: unknown;
  for await (const snapshot of graph.getStateHistory(config)) {
    if (snapshot.metadata?.step === 0) results.push(...snapshot.tasks.map((t) => t.result));
    if (snapshot.metadata?.step === 1) written = snapshot.metadata.writes?.w;
  }
  // The Sends' tasks are listed first (as LangGraph's), each with what it wrote.
  expect(results).toEqual([{ n: 100 }, { n: 200 }, { n: 10 }]);
  // Stored in the order the writes fold, the node's own task first, as checkpoints planned
  // node tasks first were: history reads those alike.
  expect(written).toEqual([{ n: 10 }, { n: 100 }, { n: 200 }]);
});

it("history gives an entrypoint's task its value", async () => {
  const double = entrypoint({ name: "double", checkpointer: new MemorySaver() }, async (n: number) => n * 2);
  const config = { configurable: { thread_id: "history-entrypoint" } };
  await double.invoke(21, config);
  const tasks: unknown[] = [];
  for await (const snapshot of double.getStateHistory(config))
    tasks.push(snapshot.tasks.map((t) => t.result));
  expect(tasks).toEqual([[], [42]]);
});
