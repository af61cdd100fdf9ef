// A resume whose node acted on its answer is cancelled, and Redis loses the run's job while the
// node still runs (a call that does not take its signal). Reconciliation enqueues the job again;
// the new delivery finds the run cancelled and hands the thread on. The answer the node acted on
// must stay taken: given back, the person is asked again and the node acts twice.
import { Annotation, END, interrupt, START, StateGraph } from "@layover/graph";
import { stepJobId } from "@layover/runtime";
import { Redis } from "ioredis";
import { afterAll, beforeAll, expect, it } from "vitest";
import { createHarness, type Harness } from "./support/harness.ts";
import { until } from "./support/until.ts";

const acted: string[] = [];
const State = Annotation.Root({ booked: Annotation<string>() });
const book = new StateGraph(State)
  .addNode("book", async () => {
    const answer = String(interrupt("book?"));
    acted.push(answer); // the card is charged
    await new Promise((resolve) => setTimeout(resolve, 3_000)); // a receipt upload, deaf to the signal
    return { booked: answer };
  })
  .addEdge(START, "book")
  .addEdge("book", END)
  .compile();

let h: Harness;
beforeAll(async () => {
  h = await createHarness("cancel_lost_job");
  await h.startWorker({ id: "w1", graphs: { book } });
}, 60_000);
afterAll(async () => {
  await h?.close();
});

it("does not give back an answer the node acted on", async () => {
  const { runId, threadId } = await h.client.runs.start({ graphId: "book", input: {} });
  await h.client.runs.wait(runId);
  const resumed = await h.client.threads.resume(threadId, "YES");
  await until(() => acted.length === 1, 5_000, "the node never acted");
  await until(
    async () => (await h.client.runs.get(resumed.runId)).status === "running",
    5_000,
    "never running",
  );
  await h.client.runs.cancel(resumed.runId);
  // Redis loses the job the node still runs in.
  const { rows } = await h.pool.query<{ checkpoint_id: string }>(
    `SELECT checkpoint_id FROM "${h.schema}".runs WHERE id = $1`,
    [resumed.runId],
  );
  const jobId = stepJobId({ threadId, runId: resumed.runId, checkpointId: rows[0]?.checkpoint_id as string });
  const redis = new Redis(h.redisUrl);
  try {
    const keys = await redis.keys(`${h.prefix}:steps:${jobId}*`);
    expect(keys.length).toBeGreaterThan(0);
    await redis.del(...keys);
    await redis.lrem(`${h.prefix}:steps:active`, 0, jobId);
  } finally {
    redis.disconnect();
  }
  const stopScheduler = await h.startScheduler({ reconcileEveryMs: 300 });
  try {
    await until(async () => (await h.client.threads.get(threadId)).status !== "busy", 15_000, "never let go");
    expect((await h.client.interrupts.list({ threadId, status: "pending" })).interrupts).toEqual([]);
    expect(acted).toEqual(["YES"]);
  } finally {
    await stopScheduler();
  }
}, 30_000);
