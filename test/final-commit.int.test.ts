// A run's last checkpoint and its success commit in one statement (finishInPut as the then of
// PostgresSaver.putThen): never the end of a run whose checkpoint was not stored.
import { isCheckpointConflict, newCheckpointId } from "@layover/checkpoint";
import { PostgresSaver } from "@layover/checkpoint-postgres";
import {
  createDb,
  finishInPut,
  finishRun,
  parseRunEvent,
  type RunEvent,
  type RunRow,
  recordProgress,
  runEventsChannel,
  stepJobId,
} from "@layover/runtime";
import { Redis } from "ioredis";
import { afterAll, beforeAll, expect, it } from "vitest";
import { createHarness, type Harness, runAndQueuedRun } from "./support/harness.ts";

let h: Harness;
beforeAll(async () => {
  h = await createHarness("final_commit");
  const stop = await h.startWorker({ id: "migrates-only" }); // migrates and registers the graphs
  await stop(); // no worker from here on: runs stay pending
}, 60_000);
afterAll(async () => {
  await h?.close();
});

const checkpoint = (n: number) => ({
  v: 1 as const,
  id: newCheckpointId(),
  ts: new Date().toISOString(),
  channelValues: { n },
  channelVersions: { n },
  updatedChannels: ["n"],
  pendingSends: [],
});

it("a last put that loses its compare-and-set ends nothing: the run and its thread stay as they were", async () => {
  const { runId, threadId } = await h.client.runs.start({ graphId: "slow-chain", input: { delayMs: 0 } });
  const db = createDb(h.pool, h.schema);
  const saver = new PostgresSaver({ pool: h.pool, schema: h.schema });
  const key = { threadId, ns: "" };
  // Another writer moved the head (H0 -> H1) while this worker computed its last superstep from H0.
  const h0 = checkpoint(1);
  await saver.put({
    ...key,
    checkpoint: h0,
    metadata: { source: "loop", step: 0, writes: null },
    parentId: null,
    changedChannels: ["n"],
  });
  const h1 = checkpoint(2);
  await saver.put({
    ...key,
    checkpoint: h1,
    metadata: { source: "loop", step: 1, writes: null },
    parentId: h0.id,
    changedChannels: ["n"],
  });
  const run = (await h.pool.query<RunRow>(`SELECT * FROM "${h.schema}".runs WHERE id = $1`, [runId]))
    .rows[0] as RunRow;
  const last = checkpoint(3);
  const error = await saver
    .putThen(
      {
        ...key,
        checkpoint: last,
        metadata: { source: "loop", step: 1, writes: null },
        parentId: h0.id,
        changedChannels: ["n"],
      },
      finishInPut(db, { run, worker: "loser", checkpointId: last.id, steps: 1 }),
    )
    .catch((e: unknown) => e);
  expect(isCheckpointConflict(error)).toBe(true);
  const after = (
    await h.pool.query(
      `SELECT r.status, r.checkpoint_id, r.finished_by, t.status AS thread_status, t.head_checkpoint
         FROM "${h.schema}".runs r JOIN "${h.schema}".threads t ON t.id = r.thread_id WHERE r.id = $1`,
      [runId],
    )
  ).rows[0];
  expect(after).toMatchObject({
    status: "pending",
    checkpoint_id: null,
    finished_by: null,
    thread_status: "busy",
  });
  expect(after.head_checkpoint).not.toBe(last.id);
});

it("a last put resent with full values ends the run once and hands the thread to the queued run", async () => {
  const { first, queued } = await runAndQueuedRun(h);
  const db = createDb(h.pool, h.schema);
  const saver = new PostgresSaver({ pool: h.pool, schema: h.schema });
  const key = { threadId: first.threadId, ns: "" };
  const h0 = { ...checkpoint(1), channelValues: { list: ["a"] }, channelVersions: { list: 1 } };
  await saver.put({
    ...key,
    checkpoint: h0,
    metadata: { source: "loop", step: 0, writes: null },
    parentId: null,
    changedChannels: ["list"],
  });
  const run = (await h.pool.query<RunRow>(`SELECT * FROM "${h.schema}".runs WHERE id = $1`, [first.runId]))
    .rows[0] as RunRow;
  const last = { ...checkpoint(2), channelValues: { list: ["a", "b", "c"] }, channelVersions: { list: 2 } };
  // An append hint whose base length is not what is stored: the first statement must write nothing.
  const row = await saver.putThen<{ applied: boolean; next_run_id: string | null }>(
    {
      ...key,
      checkpoint: last,
      metadata: { source: "loop", step: 1, writes: null },
      parentId: h0.id,
      changedChannels: ["list"],
      appends: { list: { baseVersion: 1, baseLength: 2 } },
    },
    finishInPut(db, { run, worker: "w", checkpointId: last.id, steps: 1 }),
  );
  // The worker reads this: applied must be true and the queued run must be handed on.
  expect(row).toMatchObject({ applied: true, next_run_id: queued.runId });
});

it("a worker that died after a run's last commit, before enqueuing the next run: its redelivered job does it", async () => {
  const { first, queued } = await runAndQueuedRun(h);
  const db = createDb(h.pool, h.schema);
  const run = (await h.pool.query<RunRow>(`SELECT * FROM "${h.schema}".runs WHERE id = $1`, [first.runId]))
    .rows[0] as RunRow;
  // The first run's end committed (the thread now the queued run's), and then the worker died:
  // the queued run's job was never enqueued, while the first run's job is still in BullMQ.
  const settled = await finishRun(db, h.pool, { run, worker: "died", checkpointId: null, steps: 0 });
  expect(settled.next?.runId).toBe(queued.runId);
  const stop = await h.startWorker({ id: "redelivered" });
  try {
    // Well within the time a scheduler's reconciliation would take (none runs here).
    const done = await h.client.runs.wait(queued.runId, { timeoutMs: 5_000 });
    expect(done.status).toBe("success");
  } finally {
    await stop();
  }
});

it("a worker that died after a run's last commit, before announcing it: its redelivered job announces it", async () => {
  const { runId, threadId } = await h.client.runs.start({ graphId: "slow-chain", input: { delayMs: 0 } });
  const db = createDb(h.pool, h.schema);
  const run = (await h.pool.query<RunRow>(`SELECT * FROM "${h.schema}".runs WHERE id = $1`, [runId]))
    .rows[0] as RunRow;
  // The run's end committed, and then its worker died (or lost the statement's answer) before
  // it published the run event its waiters listen for; the run's job is still in BullMQ.
  await finishRun(db, h.pool, { run, worker: "died", checkpointId: null, steps: 0 });
  const events: RunEvent[] = [];
  const subscriber = new Redis(h.redisUrl);
  subscriber.on("message", (_channel: string, message: string) => {
    const event = parseRunEvent(message);
    if (event !== undefined) events.push(event);
  });
  await subscriber.subscribe(runEventsChannel(h.prefix));
  const stop = await h.startWorker({ id: "redelivered" });
  try {
    // A waiter hears it now rather than at its next safety recheck of Postgres.
    await expect
      .poll(() => events, { timeout: 5_000 })
      .toContainEqual({ runId, threadId, status: "success" });
  } finally {
    await stop();
    subscriber.disconnect();
  }
});

it("a job whose thread's head cannot be read still ends when its run has: the next run is enqueued", async () => {
  const { first, queued } = await runAndQueuedRun(h);
  const db = createDb(h.pool, h.schema);
  const saver = new PostgresSaver({ pool: h.pool, schema: h.schema });
  const head = checkpoint(1);
  await saver.put({
    threadId: first.threadId,
    ns: "",
    checkpoint: head,
    metadata: { source: "loop", step: 0, writes: null },
    parentId: null,
    changedChannels: ["n"],
  });
  // A head no reader can decode (damaged by hand, or by a serializer since replaced).
  await h.pool.query(`UPDATE "${h.schema}".checkpoints SET body = 'garbage' WHERE checkpoint_id = $1`, [
    head.id,
  ]);
  const run = (await h.pool.query<RunRow>(`SELECT * FROM "${h.schema}".runs WHERE id = $1`, [first.runId]))
    .rows[0] as RunRow;
  await finishRun(db, h.pool, { run, worker: "died", checkpointId: null, steps: 0 });
  const stop = await h.startWorker({ id: "unreadable-head" });
  try {
    // The first run's redelivered job ends (done, so BullMQ dropped it) rather than failing on
    // the head it does not need, and the queued run's job is in the queue.
    const firstJob = stepJobId({ threadId: first.threadId, runId: first.runId, checkpointId: null });
    await expect.poll(() => h.queue.getJob(firstJob), { timeout: 5_000 }).toBeUndefined();
    const queuedJob = stepJobId({ threadId: queued.threadId, runId: queued.runId, checkpointId: null });
    expect(await h.queue.getJob(queuedJob)).toBeDefined();
  } finally {
    await stop();
  }
});

it("records a run's progress to a checkpoint once, also when asked again after a cancel", async () => {
  const { runId } = await h.client.runs.start({ graphId: "slow-chain", input: { delayMs: 0 } });
  const db = createDb(h.pool, h.schema);
  const at = { runId, worker: "w", checkpointId: newCheckpointId(), steps: 3 };
  expect(await recordProgress(db, h.pool, at)).toBe(true);
  // Asked again (its put's answer was lost): nothing more is counted.
  expect(await recordProgress(db, h.pool, at)).toBe(true);
  expect((await h.client.runs.get(runId)).steps).toBe(3);
  await h.client.runs.cancel(runId);
  // The run got to that checkpoint before it was cancelled: its thread is handed on from there.
  expect(await recordProgress(db, h.pool, at)).toBe(true);
  expect(await recordProgress(db, h.pool, { ...at, checkpointId: newCheckpointId() })).toBe(false);
  expect(await h.client.runs.get(runId)).toMatchObject({ status: "cancelled", steps: 3 });
});
