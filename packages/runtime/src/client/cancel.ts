import { RunNotFoundError } from "../errors.ts";
import { RUN_STREAM_END, runStreamModes } from "../run-stream.ts";
import { type NextRun, nextStep } from "../run-transitions.ts";
import type { RunRow } from "../sql/runs.ts";
import { isUuid } from "../uuid.ts";
import { orLate, REDIS_WAIT_MS } from "../within.ts";
import type { ClientContext } from "./context.ts";
import { dispatchRecorded } from "./context.ts";

/**
 * Cancels a run that has not finished. A parked run's pending interrupts are cancelled too and
 * its thread freed. A resume queued behind the thread's current run has its answers
 * withdrawn: its interrupts are pending again, for a person or the timeout sweep. A run that
 * holds its thread stops before its next superstep — the worker is told at once; the commit of
 * the step it is running still lands (under durability "exit" the supersteps it had not stored
 * are dropped) — and its worker then frees the thread for the next queued run. A parked run
 * someone already answered, or a finished one, is left as it is. Returns the run's status.
 * One call of cancel_run (migrations/0005_cancel_and_supersede.sql), which holds the thread's lock throughout.
 */
export async function cancelRun(ctx: ClientContext, runId: string): Promise<{ status: RunRow["status"] }> {
  if (!isUuid(runId)) throw new RunNotFoundError(runId);
  const { rows } = await ctx.db.pool.query<
    NextRun & { outcome: "missing" | "unchanged" | "cancelled"; status: RunRow["status"]; thread_id: string }
  >(`SELECT * FROM ${ctx.db.table("cancel_run")}($1, $2)`, [runId, ctx.identity]);
  const row = rows[0];
  if (row === undefined || row.outcome === "missing") throw new RunNotFoundError(runId);
  await dispatchRecorded(ctx, nextStep(row.thread_id, row));
  if (row.outcome === "cancelled") {
    // Side by side: with Redis away, the call waits for it once (REDIS_WAIT_MS), not once each.
    await Promise.all([
      announce(ctx, runId.toLowerCase(), row.thread_id),
      endQueuedStream(ctx, runId.toLowerCase()),
    ]);
  }
  return { status: row.status };
}

/** Tells waiters and the run's worker at once; they recheck Postgres if Redis does not pass it on. */
async function announce(ctx: ClientContext, runId: string, threadId: string): Promise<void> {
  const announced = ctx.dispatcher.publishCancel({ runId, threadId, status: "cancelled" });
  await orLate(announced, REDIS_WAIT_MS, "cancel announcement").catch((error: unknown) =>
    ctx.logger.warn({ err: error, runId }, "cancel not announced; waiters and workers recheck Postgres"),
  );
}

/**
 * A streamed run cancelled while queued behind its thread's current run: no job of it will run
 * to write its stream's end entry (a worker writes it for a run that held its thread, and wrote
 * a parked run's as it parked), so the canceller does, and the run's readers end now rather than
 * after their grace. The cancel released such a run in its own transaction (released_at is its
 * finished_at; a run that held its thread is released later, by its job) and it never parked.
 */
async function endQueuedStream(ctx: ClientContext, runId: string): Promise<void> {
  const { rows } = await ctx.db.pool.query<{ input: RunRow["input"]; queued: boolean }>(
    `SELECT r.input, (r.released_at = r.finished_at AND r.parked_by IS NULL) IS TRUE AS queued
       FROM ${ctx.db.table("runs")} r WHERE r.id = $1`,
    [runId],
  );
  const row = rows[0];
  if (row === undefined || !row.queued || runStreamModes(row.input) === undefined) return;
  const ended = ctx.dispatcher.appendStream(runId, [{ event: RUN_STREAM_END, data: "cancelled" }]);
  await orLate(ended, REDIS_WAIT_MS, "stream end").catch((error: unknown) =>
    ctx.logger.warn({ err: error, runId }, "stream end not written; its readers end from Postgres"),
  );
}
