import { inTransaction, type Queryable } from "../db.ts";
import { RunNotFoundError } from "../errors.ts";
import { releaseThread } from "../run-transitions.ts";
import { FINISHED, type RunRow } from "../sql/runs.ts";
import { lockThread, type ThreadRow } from "../sql/threads.ts";
import { isUuid } from "../uuid.ts";
import type { ClientContext } from "./context.ts";
import { dispatchRecorded } from "./context.ts";

type Cancelled = {
  status: RunRow["status"];
  job: Awaited<ReturnType<typeof releaseThread>>;
  changed: boolean;
};

/**
 * Whether `run`, parked, is what the thread waits on: the thread is waiting and no run parked it
 * since. A parked run's row is not written again once it parks, so the last one parked is the
 * interrupted run updated last. An earlier one was answered (or cancelled) already.
 */
async function holdsWait(ctx: ClientContext, q: Queryable, run: RunRow, thread: ThreadRow | undefined) {
  if (thread?.status !== "interrupted") return false;
  const { rows } = await q.query<{ id: string }>(
    `SELECT id FROM ${ctx.db.table("runs")} WHERE thread_id = $1 AND status = 'interrupted'
      ORDER BY updated_at DESC, id DESC LIMIT 1`,
    [run.thread_id],
  );
  return rows[0]?.id === run.id;
}

/**
 * A queued resume (waiting behind the thread's current run, so no job has it) never delivered
 * its answers: the interrupts it answered are pending again, for a person or the timeout sweep.
 */
async function withdrawAnswers(ctx: ClientContext, q: Queryable, run: RunRow): Promise<void> {
  await q.query(
    `UPDATE ${ctx.db.table("interrupts")}
        SET status = 'pending', resolved_by = NULL, resolved_at = NULL, resume_value = NULL,
            resume_run_id = NULL, idempotency_key = NULL
      WHERE thread_id = $1 AND resume_run_id = $2 AND status IN ('resolved', 'expired')`,
    [run.thread_id, run.id],
  );
}

/** Frees the thread a cancelled run held: its pending interrupts are cancelled, its next queued run starts. */
async function freeThread(ctx: ClientContext, q: Queryable, run: RunRow) {
  await q.query(
    `UPDATE ${ctx.db.table("interrupts")} SET status = 'cancelled', resolved_by = $2, resolved_at = now()
      WHERE thread_id = $1 AND status = 'pending'`,
    [run.thread_id, ctx.identity],
  );
  return releaseThread(ctx.db, q, { threadId: run.thread_id, status: "idle", headCheckpoint: null });
}

async function cancelLocked(ctx: ClientContext, q: Queryable, run: RunRow, thread: ThreadRow | undefined) {
  const none: Cancelled = { status: run.status, job: null, changed: false };
  if (FINISHED.has(run.status)) return none;
  const parked = run.status === "interrupted";
  if (parked && !(await holdsWait(ctx, q, run, thread))) return none;
  await q.query(
    `UPDATE ${ctx.db.table("runs")} SET status = 'cancelled', finished_at = now(), updated_at = now() WHERE id = $1`,
    [run.id],
  );
  const cancelled: Cancelled = { status: "cancelled", job: null, changed: true };
  if (parked) return { ...cancelled, job: await freeThread(ctx, q, run) };
  // A run holding the thread may be mid-superstep, however its row looks: its worker hands the
  // thread on once it has stopped (releaseCancelled), so the next queued run never steps beside
  // it. Its answers stand; an interrupt the graph asks again is pending again when the thread
  // parks (settle_run, migrations/0004).
  if (thread?.current_run_id === run.id) return cancelled;
  // Queued behind the thread's current run, the resume has no job: no worker can have used its
  // answers, so they are withdrawn.
  if (run.kind === "resume") await withdrawAnswers(ctx, q, run);
  return cancelled;
}

/**
 * Cancels a run that has not finished. A parked run's pending interrupts are cancelled too and
 * its thread freed. A resume queued behind the thread's current run has its answers
 * withdrawn: its interrupts are pending again, for a person or the timeout sweep. A run that
 * holds its thread stops before its next superstep — the worker is told at once; the commit of
 * the step it is running still lands (under durability "exit" the supersteps it had not stored
 * are dropped) — and its worker then frees the thread for the next queued run. A parked run
 * someone already answered, or a finished one, is left as it is. Returns the run's status.
 */
export async function cancelRun(ctx: ClientContext, runId: string): Promise<{ status: RunRow["status"] }> {
  if (!isUuid(runId)) throw new RunNotFoundError(runId);
  const { status, job, changed, threadId } = await inTransaction(ctx.db, async (client) => {
    const runs = ctx.db.table("runs");
    const found = (await client.query<RunRow>(`SELECT thread_id FROM ${runs} WHERE id = $1`, [runId]))
      .rows[0];
    if (found === undefined) throw new RunNotFoundError(runId);
    const thread = await lockThread(ctx.db, client, found.thread_id);
    const run = (await client.query<RunRow>(`SELECT * FROM ${runs} WHERE id = $1`, [runId]))
      .rows[0] as RunRow;
    return { ...(await cancelLocked(ctx, client, run, thread)), threadId: found.thread_id };
  });
  await dispatchRecorded(ctx, job);
  if (changed) {
    await ctx.dispatcher
      .publishCancel({ runId, threadId, status: "cancelled" })
      .catch((error: unknown) =>
        ctx.logger.warn({ err: error, runId }, "cancel not announced; waiters and workers recheck Postgres"),
      );
  }
  return { status };
}
