// client.threads.prune (a thread TTL) against real Postgres, Redis and a worker: threads nobody
// touched since a date go with their runs, interrupts and checkpoints; threads in use, a cron's,
// and those waiting for a person (unless asked for) stay, with every row.
import { ThreadNotFoundError } from "@layover/runtime";
import { afterAll, beforeAll, expect, it } from "vitest";
import { createHarness, type Harness, parkedApproval, threadRows } from "./support/harness.ts";

const DAY = 86_400_000;
const MONTH_AGO = () => new Date(Date.now() - 30 * DAY);

let h: Harness;
beforeAll(async () => {
  h = await createHarness("thread_prune");
  await h.startWorker({ id: "pruning" });
}, 60_000);
afterAll(async () => {
  await h?.close();
});

const rowsOf = (threadId: string) => threadRows(h, threadId);

/** A thread whose run ended as `graphId` ends with `input`. */
async function ended(graphId: string, input: Record<string, unknown>): Promise<string> {
  const { runId, threadId } = await h.client.runs.start({ graphId, input });
  await h.client.runs.wait(runId, { timeoutMs: 20_000 });
  return threadId;
}

/** The thread as if nothing had touched it for `days` days. */
async function age(threadId: string, days = 40): Promise<void> {
  await h.pool.query(
    `UPDATE "${h.schema}".threads SET updated_at = now() - $2 * interval '1 day' WHERE id = $1`,
    [threadId, days],
  );
}

/** Deletes what earlier tests left, so each counts its own threads. */
async function pruneAll(): Promise<void> {
  await h.client.threads.prune({
    olderThan: new Date(Date.now() + DAY),
    statuses: ["idle", "error", "interrupted"],
  });
}

it("deletes finished and failed threads untouched since the date, with every row; keeps the rest", async () => {
  await pruneAll();
  const done = await ended("linear", {});
  const failed = await ended("flaky", { fail: true });
  const { threadId: parked } = await parkedApproval(h, "old question");
  const recent = await ended("linear", {});
  const withCron = await ended("linear", {});
  for (const threadId of [done, failed, parked, withCron]) await age(threadId);
  const cron = await h.client.crons.create({
    graphId: "linear",
    schedule: "0 0 12 * * *",
    threadId: withCron,
    input: {},
  });
  const before = await rowsOf(done);
  expect(before.checkpoints).toBeGreaterThan(1);
  try {
    const pruned = await h.client.threads.prune({ olderThan: MONTH_AGO() });

    expect(pruned).toMatchObject({ threads: 2, runs: 2, skipped: 1 });
    expect(pruned.checkpoints).toBeGreaterThan(before.checkpoints);
    for (const threadId of [done, failed])
      expect(await rowsOf(threadId)).toEqual({ threads: 0, runs: 0, interrupts: 0, checkpoints: 0 });
    await expect(h.client.threads.get(done)).rejects.toBeInstanceOf(ThreadNotFoundError);
    for (const threadId of [parked, recent, withCron]) expect((await rowsOf(threadId)).threads).toBe(1);
    expect((await rowsOf(parked)).interrupts).toBe(1);
  } finally {
    await h.client.crons.delete(cron.id);
  }
});

it("deletes threads waiting for a person only when asked to: their answer then finds no thread", async () => {
  await pruneAll();
  const { threadId } = await parkedApproval(h, "nobody answered");
  await age(threadId);
  expect(await h.client.threads.prune({ olderThan: MONTH_AGO() })).toMatchObject({ threads: 0 });

  expect(await h.client.threads.prune({ olderThan: MONTH_AGO(), statuses: ["interrupted"] })).toMatchObject({
    threads: 1,
    interrupts: 1,
  });
  await expect(h.client.threads.resume(threadId, "yes")).rejects.toBeInstanceOf(ThreadNotFoundError);
  expect((await h.client.interrupts.list({ limit: 1000 })).interrupts.map((i) => i.threadId)).not.toContain(
    threadId,
  );
});

it("keeps a finished thread that still waits for the rest of a partial answer, unless asked", async () => {
  await pruneAll();
  // Two questions at once; the run answering one of them is cancelled: the thread is idle, and
  // the other question still pending (answerable, and due for its timeout).
  const { runId, threadId } = await h.client.runs.start({ graphId: "fork", input: { delayMs: 600 } });
  await h.client.runs.wait(runId);
  const parked = await h.client.runs.wait((await h.client.threads.resume(threadId, "go")).runId);
  const [left, right] = ["left?", "right?"].map(
    (q) => parked.interrupts.find((i) => i.value === q)?.id as string,
  );
  const answering = await h.client.threads.resume(threadId, { [left as string]: "L" });
  // Cancelled once its node took the answer (cancelled before, it would give the answer back).
  for (let i = 0; (await h.client.runs.get(answering.runId)).status !== "running"; i++) {
    if (i > 400) throw new Error("the answering run never ran");
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  await h.client.runs.cancel(answering.runId);
  for (let i = 0; (await h.client.threads.get(threadId)).status === "busy"; i++) {
    if (i > 400) throw new Error("the cancelled run never let its thread go");
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  expect((await h.client.interrupts.list({ threadId })).interrupts.map((i) => i.id)).toEqual([right]);
  await age(threadId);

  expect(await h.client.threads.prune({ olderThan: MONTH_AGO() })).toMatchObject({ threads: 0 });
  expect((await rowsOf(threadId)).interrupts).toBe(3);
  expect(
    await h.client.threads.prune({ olderThan: MONTH_AGO(), statuses: ["idle", "interrupted"] }),
  ).toMatchObject({ threads: 1 });
  expect((await rowsOf(threadId)).threads).toBe(0);
});

it("a thread whose delete keeps failing is passed: the threads after it still go", async () => {
  await pruneAll();
  const [failing, after] = ["aaa-failing", "zzz-after"];
  for (const threadId of [failing, after]) {
    const { runId } = await h.client.runs.start({ graphId: "linear", input: {}, threadId });
    await h.client.runs.wait(runId, { timeoutMs: 20_000 });
    await age(threadId);
  }
  // Stands for a delete that fails every time for one thread (a statement timeout on a very long
  // history, say): a trigger refusing its runs' delete.
  const s = `"${h.schema}"`;
  await h.pool.query(`
    CREATE FUNCTION ${s}.refuse_delete() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN IF OLD.thread_id = '${failing}' THEN RAISE EXCEPTION 'canceling statement due to statement timeout'; END IF;
          RETURN OLD; END $$;
    CREATE TRIGGER refuse_delete BEFORE DELETE ON ${s}.runs FOR EACH ROW EXECUTE FUNCTION ${s}.refuse_delete();`);
  try {
    expect(await h.client.threads.prune({ olderThan: MONTH_AGO() })).toMatchObject({ threads: 1, failed: 1 });
    expect((await rowsOf(failing)).runs).toBe(1);
    expect((await rowsOf(after)).threads).toBe(0);
  } finally {
    await h.pool.query(`DROP TRIGGER refuse_delete ON ${s}.runs; DROP FUNCTION ${s}.refuse_delete()`);
  }
});

it("deletes at most `limit` threads a call; the next call goes on", async () => {
  await pruneAll();
  const threads = [await ended("linear", {}), await ended("linear", {}), await ended("linear", {})];
  for (const threadId of threads) await age(threadId);
  expect(await h.client.threads.prune({ olderThan: MONTH_AGO(), limit: 2 })).toMatchObject({ threads: 2 });
  expect(await h.client.threads.prune({ olderThan: MONTH_AGO(), limit: 2 })).toMatchObject({ threads: 1 });
  for (const threadId of threads) expect((await rowsOf(threadId)).threads).toBe(0);
});

it("leaves a thread a run touched after the prune chose it", async () => {
  await pruneAll();
  const threadId = await ended("linear", {});
  await age(threadId);
  const holder = await h.pool.connect();
  try {
    // A transition of the thread holds its lock while the prune chooses it, and commits after.
    await holder.query("BEGIN");
    await holder.query(`UPDATE "${h.schema}".threads SET updated_at = now() WHERE id = $1`, [threadId]);
    const { rows } = await holder.query("SELECT pg_backend_pid() AS pid");
    const pruned = h.client.threads.prune({ olderThan: MONTH_AGO() });
    await untilBlockedBy(rows[0].pid);
    await holder.query("COMMIT");
    expect(await pruned).toMatchObject({ threads: 0, skipped: 1 });
  } finally {
    holder.release();
  }
  expect((await rowsOf(threadId)).runs).toBe(1);
});

it("refuses options it cannot use with a typed error, deleting nothing", async () => {
  await pruneAll();
  const threadId = await ended("linear", {});
  await age(threadId);
  const bad = [
    { olderThan: "2026-01-01" },
    { olderThan: new Date(Number.NaN) },
    { olderThan: MONTH_AGO(), statuses: ["busy"] },
    { olderThan: MONTH_AGO(), statuses: [] },
    { olderThan: MONTH_AGO(), limit: 0 },
    undefined,
  ];
  for (const options of bad) {
    const refusal = await h.client.threads
      .prune(options as unknown as Parameters<Harness["client"]["threads"]["prune"]>[0])
      .catch((error: unknown) => error);
    expect(refusal).toMatchObject({
      code: "INVALID_INPUT",
      message: expect.stringMatching(/^threads\.prune(: (olderThan|statuses|limit)|'s options) must be/),
    });
  }
  expect((await rowsOf(threadId)).threads).toBe(1);
});

/** Waits until a session waits for a lock session `holder` holds. */
async function untilBlockedBy(holder: number): Promise<void> {
  for (let i = 0; i < 400; i++) {
    const { rows } = await h.pool.query(
      "SELECT count(*)::int AS n FROM pg_stat_activity WHERE $1::int = ANY (pg_blocking_pids(pid))",
      [holder],
    );
    if (rows[0].n > 0) return;
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  throw new Error("nothing waited for the thread's lock");
}
