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

/** Pending writes stored on `threadId`'s checkpoints. */
async function writesOn(threadId: string): Promise<number> {
  const { rows } = await h.pool.query<{ n: number }>(
    `SELECT count(*)::int AS n FROM "${h.schema}".checkpoint_writes w
       JOIN "${h.schema}".checkpoint_heads k USING (key_id) WHERE k.thread_id = $1`,
    [threadId],
  );
  return rows[0]?.n ?? 0;
}

/**
 * A run of `graphId` held at its gate with the next run queued behind it, then cancelled unheard
 * by its worker (a frozen process hears nothing; the announcement is best effort) and its thread
 * handed to the next run, as a worker taking the cancelled run's job over does.
 */
async function handedOver(graphId: string, tag: string) {
  const first = await h.client.runs.start({ graphId, input: { gate: `first-${tag}` } });
  const next = await h.client.runs.start({
    graphId,
    threadId: first.threadId,
    input: { gate: `next-${tag}` },
    multitaskStrategy: "enqueue",
  });
  await until(() => gate(`first-${tag}`).reached, 10_000, "the first run never reached its node");
  await until(async () => (await stored(first.threadId)) > 0, 10_000, "the first run's input never stored");
  const { rows } = await h.pool.query(`SELECT outcome FROM "${h.schema}".cancel_run($1, 'test')`, [
    first.runId,
  ]);
  expect(rows).toEqual([{ outcome: "cancelled" }]);
  const db = createDb(h.pool, h.schema);
  const cancelled = await getRun(db, h.pool, first.runId);
  const job = {
    threadId: first.threadId,
    runId: first.runId,
    checkpointId: cancelled?.checkpoint_id ?? null,
  };
  const handedOn = await releaseCancelled(db, job);
  expect(handedOn?.runId).toBe(next.runId);
  return { first, next, handedOn, db };
}

/** Lets the first run's job go on (a frozen worker thawing) and waits for it to end. */
async function thaw(tag: string, runId: string): Promise<void> {
  gate(`first-${tag}`).open();
  await until(async () => !(await hasJob(runId)), 10_000, "the first run's job never ended");
}

/** Enqueues the next run's job, as the worker that took the first run's job over does, and lets it go on. */
async function goOn(tag: string, handedOn: Awaited<ReturnType<typeof handedOver>>["handedOn"]) {
  if (handedOn) await h.queue.add("step", handedOn, { ...STEP_JOB_OPTIONS, jobId: stepJobId(handedOn) });
  gate(`next-${tag}`).open();
}

it("a cancelled run's late commit after its thread went to the next run is refused; the next run goes on", async () => {
  const tag = randomUUID();
  const { first, next, handedOn, db } = await handedOver("held-node", tag);
  const handedOverCount = await stored(first.threadId);

  // Before the next run stores anything, the first run's job goes on and commits its supersteps:
  // refused, as if another worker had committed first.
  await thaw(tag, first.runId);
  expect(await stored(first.threadId)).toBe(handedOverCount);

  // The next run's job goes on from the head the first run left when its thread was handed on.
  await goOn(tag, handedOn);
  const done = await h.client.runs.wait(next.runId, { timeoutMs: 10_000 });
  expect(done).toMatchObject({ status: "success", values: { trail: [`next-${tag}`] } });
  expect(await getRun(db, h.pool, first.runId)).toMatchObject({ status: "cancelled" });
}, 40_000);

it("a cancelled run's failed superstep after its thread went to the next run leaves no pending writes on it", async () => {
  const tag = randomUUID();
  const { first, next, handedOn } = await handedOver("held-fork", tag);
  const before = await writesOn(first.threadId);

  // The first run's superstep fails (`work` throws beside `side`, which succeeded): the writes a
  // failed superstep keeps — `side`'s, the error — are refused too, so no replay or fork of the
  // head takes them as done.
  await thaw(tag, first.runId);
  expect(await writesOn(first.threadId)).toBe(before);

  // The run holding the thread keeps its own failed superstep's writes.
  await goOn(tag, handedOn);
  const done = await h.client.runs.wait(next.runId, { timeoutMs: 10_000 });
  expect(done.status).toBe("error");
  expect(await writesOn(first.threadId)).toBeGreaterThan(before);
}, 40_000);
