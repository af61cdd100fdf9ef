// On workers, a subgraph's loop runs under its run's recursionLimit (runs.start's config), as
// in-process: a sub-agent's loop failed after 25 supersteps however far the run raised it.
import { Annotation, END, START, StateGraph } from "@layover/graph";
import { afterAll, beforeAll, expect, it } from "vitest";
import { createHarness, type Harness } from "./support/harness.ts";

const State = Annotation.Root({ n: Annotation<number>({ reducer: (a, b) => a + b, default: () => 0 }) });

const loop = new StateGraph(State)
  .addNode("step", () => ({ n: 1 }))
  .addEdge(START, "step")
  .addConditionalEdges("step", (s) => (s.n < 40 ? "step" : END), ["step", END])
  .compile();

const parent = new StateGraph(State).addNode("agent", loop).addEdge(START, "agent").compile();

let h: Harness;
beforeAll(async () => {
  h = await createHarness("subgraph_recursion_limit");
  await h.startWorker({ id: "worker-a", graphs: { "looping-agent": parent } });
}, 60_000);
afterAll(async () => {
  await h?.close();
});

it("a subgraph's loop runs under the run's recursionLimit", async () => {
  const raised = await h.client.runs.start({
    graphId: "looping-agent",
    input: {},
    config: { recursionLimit: 100 },
  });
  expect(await h.client.runs.wait(raised.runId, { timeoutMs: 20_000 })).toMatchObject({
    status: "success",
    values: { n: 40 },
  });
  const plain = await h.client.runs.start({ graphId: "looping-agent", input: {} });
  const failed = await h.client.runs.wait(plain.runId, { timeoutMs: 20_000 });
  expect(failed).toMatchObject({ status: "error", error: { code: "RECURSION_LIMIT" } });
});
