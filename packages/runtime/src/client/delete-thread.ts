// Deleting a thread (a user's data erased, a conversation thrown away): its runs, interrupts
// and every checkpoint, together or not at all.
import { PostgresSaver } from "@layover/checkpoint-postgres";
import type pg from "pg";
import { inTransaction } from "../db.ts";
import { ThreadBusyError, ThreadNotFoundError } from "../errors.ts";
import { isStorableId } from "../keys.ts";
import type { ClientContext } from "./context.ts";

export interface DeletedThread {
  threadId: string;
  runs: number;
  interrupts: number;
  /** Checkpoints deleted (with their channel values and pending writes). */
  checkpoints: number;
}

/**
 * Deletes thread `threadId`: its row, runs, interrupts (pending ones too: a resume racing the
 * delete gets ThreadNotFoundError) and checkpoints, in one transaction under the thread's lock.
 * Refused with ThreadBusyError, deleting nothing, while a run of the thread is pending or
 * running (cancel it with runs.cancel, or wait for it) or while a cron starts runs on it
 * (crons.delete first). With a checkpoint saver of the caller's own, its checkpoints are
 * deleted (saver.deleteThread) before the transaction commits, the thread still locked: when
 * that fails, nothing is deleted.
 */
export async function deleteThread(ctx: ClientContext, threadId: string): Promise<DeletedThread> {
  if (!isStorableId(threadId) || threadId === "") throw new ThreadNotFoundError(String(threadId));
  const deleted = (await deleteThreadIf(ctx, threadId)) as DeletedThread;
  ctx.logger.info({ threadId, runs: deleted.runs, interrupts: deleted.interrupts }, "thread deleted");
  return deleted;
}

/** What a thread must still be, under its lock, for a prune to delete it. */
export interface DeleteCondition {
  /** Untouched since before this. */
  updatedBefore: Date;
  statuses: readonly string[];
  /** Whether a thread with an interrupt pending (waiting for a person) may go. */
  waiting: boolean;
}

function meets(thread: { status: string; updated_at: Date; waiting: boolean }, condition: DeleteCondition) {
  return (
    thread.updated_at < condition.updatedBefore &&
    condition.statuses.includes(thread.status) &&
    (condition.waiting || !thread.waiting)
  );
}

/**
 * deleteThread, except that with `condition` a thread that no longer meets it once locked (a
 * run started or finished on it since it was chosen) is left as it is: undefined.
 */
export async function deleteThreadIf(
  ctx: ClientContext,
  threadId: string,
  condition?: DeleteCondition,
): Promise<DeletedThread | undefined> {
  const own = ctx.alongSaver ?? onOurPool(ctx);
  const deleted = await inTransaction(ctx.db, async (client) => {
    const thread = await refuseInUse(ctx, client, threadId);
    if (condition && !meets(thread, condition)) return undefined;
    const counts = await client.query<{ runs: number; interrupts: number }>(
      `WITH interrupts AS (DELETE FROM ${ctx.db.table("interrupts")} WHERE thread_id = $1 RETURNING 1),
            runs AS (DELETE FROM ${ctx.db.table("runs")} WHERE thread_id = $1 RETURNING 1),
            thread AS (DELETE FROM ${ctx.db.table("threads")} WHERE id = $1) -- runs though unread
       SELECT (SELECT count(*) FROM runs)::int AS runs, (SELECT count(*) FROM interrupts)::int AS interrupts`,
      [threadId],
    );
    const { runs, interrupts } = counts.rows[0] as { runs: number; interrupts: number };
    if (own)
      return {
        threadId,
        runs,
        interrupts,
        checkpoints: (await own.deleteThreadsIn(client, [threadId])).checkpoints,
      };
    // A saver of the caller's own is not in this transaction: it deletes while the thread is
    // still locked (a start on the id waits), and a failure rolls the rows back, to delete again.
    await ctx.saver.deleteThread(threadId);
    return { threadId, runs, interrupts, checkpoints: 0 };
  });
  return deleted;
}

/**
 * The caller's saver when it is a plain PostgresSaver on the client's own pool: it deletes in the
 * transaction, on its connection. Its deleteThread would ask the pool for a second connection
 * while this one holds the lock, and as many deletes at once as the pool has connections would
 * each wait for one of the others' for ever.
 */
function onOurPool(ctx: ClientContext): PostgresSaver | undefined {
  const saver = ctx.saver;
  return saver instanceof PostgresSaver &&
    saver.pool === ctx.db.pool &&
    saver.deleteThread === PostgresSaver.prototype.deleteThread
    ? saver
    : undefined;
}

/**
 * Locks the thread's row; throws when it is missing or in use (nothing is deleted then). The
 * lock is taken in a statement of its own: a statement reads what was committed when it began,
 * so runs recorded while this one waited for the lock (a resume, a queued start) would be
 * invisible to it, and deleted by the statements after it.
 */
async function refuseInUse(
  ctx: ClientContext,
  client: pg.PoolClient,
  threadId: string,
): Promise<{ status: string; updated_at: Date; waiting: boolean }> {
  const locked = await client.query(`SELECT 1 FROM ${ctx.db.table("threads")} WHERE id = $1 FOR UPDATE`, [
    threadId,
  ]);
  if (locked.rowCount === 0) throw new ThreadNotFoundError(threadId);
  // A busy thread's current run may be cancelled and still finishing its superstep on a worker.
  const { rows } = await client.query<{
    status: string;
    updated_at: Date;
    waiting: boolean;
    active_run: string | null;
    cron: string | null;
  }>(
    `SELECT t.status, t.updated_at,
            EXISTS (SELECT 1 FROM ${ctx.db.table("interrupts")} i
                     WHERE i.thread_id = t.id AND i.status = 'pending') AS waiting,
            coalesce((SELECT r.id FROM ${ctx.db.table("runs")} r
              WHERE r.thread_id = t.id AND r.status IN ('pending', 'running') LIMIT 1),
              CASE WHEN t.status = 'busy' THEN t.current_run_id END) AS active_run,
            (SELECT c.id FROM ${ctx.db.table("crons")} c WHERE c.thread_id = t.id LIMIT 1) AS cron
       FROM ${ctx.db.table("threads")} t WHERE t.id = $1`,
    [threadId],
  );
  const thread = rows[0];
  if (thread === undefined) throw new ThreadNotFoundError(threadId);
  if (thread.active_run !== null) {
    throw new ThreadBusyError(
      threadId,
      thread.status,
      `Thread "${threadId}" has a run in progress or queued (${thread.active_run}): it was not deleted. ` +
        "Cancel the run (runs.cancel) or wait for it to finish, then delete the thread.",
    );
  }
  if (thread.cron !== null) {
    throw new ThreadBusyError(
      threadId,
      thread.status,
      `Cron ${thread.cron} starts runs on thread "${threadId}": it was not deleted. ` +
        "Delete the cron first (crons.delete, or layover-admin delete-cron).",
    );
  }
  return thread;
}
