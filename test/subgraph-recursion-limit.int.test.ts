// On workers, a subgraph's loop runs under its run's recursionLimit (runs.start's config), as
// in-process: a sub-agent's loop failed after 25 supersteps however far the run raised it. A
// resumed run keeps its start's limit (it fell back to 25 after the first approval), and a served
// graph.withConfig({ recursionLimit, context }) runs under its bound config (it was dropped).
import { Annotation, END, interrupt, START, StateGraph } from "@layover/graph";
import { afterAll, beforeAll, expect, it } from "vitest";
import { createHarness, type Harness } from "./support/harness.ts";

const State = Annotation.Root({ n: Annotation<number>({ reducer: (a, b) => a + b, default: () => 0 }) });

const loop = new StateGraph(State)
  .addNode("step", () => ({ n: 1 }))
  .addEdge(START, "step")
  .addConditionalEdges("step", (s) => (s.n < 40 ? "step" : END), ["step", END])
  .compile();

const parent = new StateGraph(State).addNode("agent", loop).addEdge(START, "agent").compile();

const Seen = Annotation.Root({
  n: Annotation<number>({ reducer: (a, b) => a + b, default: () => 0 }),
  limit: Annotation<unknown>(),
  tenant: Annotation<unknown>(),
});
/** Asks first, then loops 30 times, recording the limit and context its nodes see. */
const approvedLoop = new StateGraph(Seen)
  .addNode("approve", () => ({ n: interrupt("go?") === "yes" ? 0 : 0 }))
  .addNode("loop", (_s, config) => ({
    n: 1,
    limit: config.recursionLimit,
    tenant: (config.context as { tenant?: string } | undefined)?.tenant ?? null,
  }))
  .addEdge(START, "approve")
  .addEdge("approve", "loop")
  .addConditionalEdges("loop", (s) => (s.n >= 30 ? END : "loop"))
  .compile();
const looping = new StateGraph(Seen)
  .addNode("loop", (_s, config) => ({
    n: 1,
    limit: config.recursionLimit,
    tenant: (config.context as { tenant?: string } | undefined)?.tenant ?? null,
  }))
  .addEdge(START, "loop")
  .addConditionalEdges("loop", (s) => (s.n >= 30 ? END : "loop"))
  .compile();

let h: Harness;
beforeAll(async () => {
  h = await createHarness("subgraph_recursion_limit");
  await h.startWorker({
    id: "worker-a",
    graphs: {
      "looping-agent": parent,
      "approved-loop": approvedLoop,
      bound: looping.withConfig({ recursionLimit: 100, context: { tenant: "acme" } }),
    },
  });
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

it("a resumed run keeps its start's recursionLimit", async () => {
  const { runId, threadId } = await h.client.runs.start({
    graphId: "approved-loop",
    input: {},
    config: { recursionLimit: 100 },
  });
  expect((await h.client.runs.wait(runId, { timeoutMs: 20_000 })).status).toBe("interrupted");
  const resumed = await h.client.threads.resume(threadId, "yes");
  expect(await h.client.runs.wait(resumed.runId, { timeoutMs: 30_000 })).toMatchObject({
    status: "success",
    values: { n: 30, limit: 100 },
  });
});

it("a served graph.withConfig({ recursionLimit, context }) runs under its bound config, as its invoke does", async () => {
  const { runId } = await h.client.runs.start({ graphId: "bound", input: {} });
  expect(await h.client.runs.wait(runId, { timeoutMs: 30_000 })).toMatchObject({
    status: "success",
    values: { n: 30, limit: 100, tenant: "acme" },
  });
});
