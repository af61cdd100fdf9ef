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

it("history gives an entrypoint's task its value", async () => {
  const double = entrypoint({ name: "double", checkpointer: new MemorySaver() }, async (n: number) => n * 2);
  const config = { configurable: { thread_id: "history-entrypoint" } };
  await double.invoke(21, config);
  const tasks: unknown[] = [];
  for await (const snapshot of double.getStateHistory(config))
    tasks.push(snapshot.tasks.map((t) => t.result));
  expect(tasks).toEqual([[], [42]]);
});
