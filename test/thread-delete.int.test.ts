// client.threads.delete against real Postgres, Redis and a worker: a thread's runs, interrupts
// and checkpoints go together; a thread in use is refused and keeps everything.
import { RunNotFoundError, ThreadBusyError, ThreadNotFoundError } from "@layover/runtime";
import { afterAll, beforeAll, expect, it } from "vitest";
import { createHarness, type Harness, parkedApproval, threadRows } from "./support/harness.ts";

let h: Harness;
beforeAll(async () => {
  h = await createHarness("thread_delete");
  await h.startWorker({ id: "deleting" });
}, 60_000);
afterAll(async () => {
  await h?.close();
});

const rowsOf = (threadId: string) => threadRows(h, threadId);

it("deletes a finished thread's runs and checkpoints; the id then starts a new thread", async () => {
  const { runId, threadId } = await h.client.runs.start({ graphId: "linear", input: {} });
  expect(await h.client.runs.wait(runId)).toMatchObject({ status: "success", values: { count: 10 } });
  const before = await rowsOf(threadId);
  expect(before.checkpoints).toBeGreaterThan(1);

  expect(await h.client.threads.delete(threadId)).toEqual({
    threadId,
    runs: 1,
    interrupts: 0,
    checkpoints: before.checkpoints,
  });
  expect(await rowsOf(threadId)).toEqual({ threads: 0, runs: 0, interrupts: 0, checkpoints: 0 });
  await expect(h.client.threads.get(threadId)).rejects.toBeInstanceOf(ThreadNotFoundError);
  await expect(h.client.runs.get(runId)).rejects.toBeInstanceOf(RunNotFoundError);
  await expect(h.client.threads.delete(threadId)).rejects.toBeInstanceOf(ThreadNotFoundError);

  // Nothing of the old thread is left to continue from: the same id counts from 0 again.
  const again = await h.client.runs.start({ graphId: "linear", threadId, input: {} });
  expect(await h.client.runs.wait(again.runId)).toMatchObject({ status: "success", values: { count: 10 } });
});

it("deletes a parked thread with its pending interrupt; a resume after it finds no thread", async () => {
  const { threadId } = await parkedApproval(h, "erase me");
  expect(await h.client.threads.delete(threadId)).toMatchObject({ runs: 1, interrupts: 1 });
  await expect(h.client.threads.resume(threadId, "yes")).rejects.toBeInstanceOf(ThreadNotFoundError);
  const pending = await h.client.interrupts.list({ limit: 1000 });
  expect(pending.interrupts.map((i) => i.threadId)).not.toContain(threadId);
});

it("refuses a thread whose run is running, deleting nothing, and the run still finishes", async () => {
  const { runId, threadId } = await h.client.runs.start({ graphId: "slow-chain", input: { delayMs: 150 } });
  const refusal = await h.client.threads.delete(threadId).catch((error: unknown) => error);
  expect(refusal).toBeInstanceOf(ThreadBusyError);
  expect((refusal as Error).message).toContain("runs.cancel");
  expect(await rowsOf(threadId)).toMatchObject({ threads: 1, runs: 1 });
  expect(await h.client.runs.wait(runId, { timeoutMs: 20_000 })).toMatchObject({ status: "success" });
  expect((await h.client.threads.delete(threadId)).runs).toBe(1);
});

it("refuses a thread a cron runs on, naming the cron", async () => {
  const { runId, threadId } = await h.client.runs.start({ graphId: "linear", input: {} });
  await h.client.runs.wait(runId);
  const cron = await h.client.crons.create({
    graphId: "linear",
    schedule: "0 0 12 * * *",
    threadId,
    input: {},
  });
  try {
    const refusal = await h.client.threads.delete(threadId).catch((error: unknown) => error);
    expect(refusal).toBeInstanceOf(ThreadBusyError);
    expect((refusal as Error).message).toContain(cron.id);
    expect((await rowsOf(threadId)).threads).toBe(1);
  } finally {
    await h.client.crons.delete(cron.id);
  }
});

it("a delete and a resume racing on a parked thread: the resume is refused, or its run is never cut off", async () => {
  for (let trial = 0; trial < 15; trial++) {
    const { threadId } = await parkedApproval(h, `race ${trial}`);
    const [deleted, resumed] = await Promise.allSettled([
      h.client.threads.delete(threadId),
      h.client.threads.resume(threadId, "yes"),
    ]);
    if (resumed.status === "rejected") {
      // The delete went first: the answer found no thread, and nothing of it is left.
      expect(resumed.reason).toBeInstanceOf(ThreadNotFoundError);
      expect(deleted.status).toBe("fulfilled");
    } else if (deleted.status === "rejected") {
      // The resume went first, and its run was still going: the thread stays, the run finishes.
      expect(deleted.reason).toBeInstanceOf(ThreadBusyError);
      const { runId } = resumed.value;
      expect(await h.client.runs.wait(runId, { timeoutMs: 20_000 })).toMatchObject({ status: "success" });
      expect((await rowsOf(threadId)).threads).toBe(1);
      continue;
    }
    // Deleted (perhaps after the resumed run had finished): every row is gone.
    expect(await rowsOf(threadId)).toEqual({ threads: 0, runs: 0, interrupts: 0, checkpoints: 0 });
  }
});

it("a resume recorded while the delete waited for the thread's lock is seen, and the delete refused", async () => {
  const { threadId } = await parkedApproval(h, "queued behind a lock");
  const holder = await h.pool.connect();
  try {
    await holder.query("BEGIN");
    await holder.query(`SELECT 1 FROM "${h.schema}".threads WHERE id = $1 FOR UPDATE`, [threadId]);
    const { rows } = await holder.query("SELECT pg_backend_pid() AS pid");
    const resumed = h.client.threads.resume(threadId, "yes"); // first in line for the lock
    await waitForBlocked(rows[0].pid, 1);
    const deleted = h.client.threads.delete(threadId).catch((error: unknown) => error);
    await waitForBlocked(rows[0].pid, 2);
    await holder.query("COMMIT");
    const { runId } = await resumed;
    expect(await deleted).toBeInstanceOf(ThreadBusyError);
    expect(await h.client.runs.wait(runId, { timeoutMs: 20_000 })).toMatchObject({ status: "success" });
  } finally {
    holder.release();
  }
});

/**
 * Waits until `n` sessions queue behind session `holder`'s lock: blocked by it, or by a session
 * it blocks (a second waiter for a row waits for the first).
 */
async function waitForBlocked(holder: number, n: number): Promise<void> {
  for (let i = 0; i < 200; i++) {
    const { rows } = await h.pool.query(
      `WITH first AS (SELECT pid FROM pg_stat_activity WHERE $1::int = ANY (pg_blocking_pids(pid)))
       SELECT count(*)::int AS n FROM pg_stat_activity
        WHERE pg_blocking_pids(pid) && (ARRAY[$1::int] || ARRAY(SELECT pid FROM first))`,
      [holder],
    );
    if (rows[0].n >= n) return;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  throw new Error(`never saw ${n} sessions waiting for a lock`);
}
