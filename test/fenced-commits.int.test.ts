// A job that goes on with a run that no longer holds its thread — its worker froze past its lock,
// and meanwhile the run was cancelled and its thread handed to the next run — stores nothing on
// the thread: every commit of a run's job is fenced by the run holding its thread
// (threads.current_run_id). Here the job is held mid-node in this process (test/fixtures/held-node.ts)
// while the test does what a worker taking its job over would do; frozen-worker.e2e.test.ts
// freezes real processes.
import { randomUUID } from "node:crypto";
import { createDb, getRun, releaseCancelled, STEP_JOB_OPTIONS, stepJobId } from "@layover/runtime";
import { afterAll, beforeAll, expect, it } from "vitest";
import { gate } from "./fixtures/held-node.ts";
import { checkpointCounts, createHarness, type Harness } from "./support/harness.ts";
import { until } from "./support/until.ts";

let h: Harness;
beforeAll(async () => {
  h = await createHarness("fenced_commits");
  // A budget that never runs out: a job runs its whole run unless it stops.
  await h.startWorker({ id: "fenced", budget: { steps: 100, ms: 60_000 } });
}, 60_000);
afterAll(async () => {
  await h?.close();
});

const stored = async (threadId: string) => (await checkpointCounts(h, [threadId])).get(threadId) ?? 0;

/** Whether a job of `runId` is still in BullMQ (done jobs are removed). */
async function hasJob(runId: string): Promise<boolean> {
  const jobs = await h.queue.getJobs(["active", "waiting", "delayed", "prioritized", "failed"]);
  return jobs.some((job) => job?.data.runId === runId);
}

it("a cancelled run's late commit after its thread went to the next run is refused; the next run goes on", async () => {
  const tag = randomUUID();
  const first = await h.client.runs.start({ graphId: "held-node", input: { gate: `first-${tag}` } });
  const next = await h.client.runs.start({
    graphId: "held-node",
    threadId: first.threadId,
    input: { gate: `next-${tag}` },
    multitaskStrategy: "enqueue",
  });
  await until(() => gate(`first-${tag}`).reached, 10_000, "the first run never reached its node");
  await until(async () => (await stored(first.threadId)) > 0, 10_000, "the first run's input never stored");
  // Cancelled as runs.cancel cancels it, but unheard by its worker (a frozen process hears
  // nothing; the announcement is best effort): its job goes on as if the run were not cancelled.
  const { rows } = await h.pool.query(`SELECT outcome FROM "${h.schema}".cancel_run($1, 'test')`, [
    first.runId,
  ]);
  expect(rows).toEqual([{ outcome: "cancelled" }]);

  // What a worker that takes the first run's job over does: the thread goes to the next run.
  const db = createDb(h.pool, h.schema);
  const cancelled = await getRun(db, h.pool, first.runId);
  const job = {
    threadId: first.threadId,
    runId: first.runId,
    checkpointId: cancelled?.checkpoint_id ?? null,
  };
  const handedOn = await releaseCancelled(db, job);
  expect(handedOn?.runId).toBe(next.runId);
  const handedOver = await stored(first.threadId);

  // Before the next run stores anything, the first run's job goes on (a frozen worker thawing)
  // and commits its supersteps: refused, as if another worker had committed first.
  gate(`first-${tag}`).open();
  await until(async () => !(await hasJob(first.runId)), 10_000, "the first run's job never ended");
  expect(await stored(first.threadId)).toBe(handedOver);

  // The next run's job (handedOn, as the worker that took the job over enqueues it) goes on from
  // the head the first run left when its thread was handed on.
  if (handedOn) await h.queue.add("step", handedOn, { ...STEP_JOB_OPTIONS, jobId: stepJobId(handedOn) });
  gate(`next-${tag}`).open();
  const done = await h.client.runs.wait(next.runId, { timeoutMs: 10_000 });
  expect(done).toMatchObject({ status: "success", values: { trail: [`next-${tag}`] } });
  expect(await getRun(db, h.pool, first.runId)).toMatchObject({ status: "cancelled" });
}, 40_000);
