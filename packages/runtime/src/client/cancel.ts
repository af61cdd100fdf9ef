import { inTransaction } from "../db.ts";
import { RunNotFoundError } from "../errors.ts";
import { releaseThread } from "../run-transitions.ts";
import { FINISHED, type RunRow } from "../sql/runs.ts";
import { lockThread } from "../sql/threads.ts";
import { type ClientContext, dispatchRecorded } from "./context.ts";

/**
 * Cancels a run that has not finished. A parked run's pending interrupts are cancelled too; a
 * running one stops at its next superstep boundary (the worker's commit of the step it is
 * running still lands, and nothing after it runs). Returns the run's status afterwards.
 */
export async function cancelRun(ctx: ClientContext, runId: string): Promise<{ status: RunRow["status"] }> {
  const { status, job } = await inTransaction(ctx.db, async (client) => {
    const { rows } = await client.query<RunRow>(`SELECT * FROM ${ctx.db.table("runs")} WHERE id = $1`, [
      runId,
    ]);
    const found = rows[0];
    if (found === undefined) throw new RunNotFoundError(runId);
    const thread = await lockThread(ctx.db, client, found.thread_id);
    const run = (await client.query<RunRow>(`SELECT * FROM ${ctx.db.table("runs")} WHERE id = $1`, [runId]))
      .rows[0] as RunRow;
    if (FINISHED.has(run.status)) return { status: run.status, job: null };
    await client.query(
      `UPDATE ${ctx.db.table("runs")} SET status = 'cancelled', finished_at = now(), updated_at = now() WHERE id = $1`,
      [runId],
    );
    const holdsThread =
      thread?.current_run_id === runId || (run.status === "interrupted" && thread?.status === "interrupted");
    if (!holdsThread) return { status: "cancelled" as const, job: null };
    await client.query(
      `UPDATE ${ctx.db.table("interrupts")} SET status = 'cancelled', resolved_by = $2, resolved_at = now()
        WHERE thread_id = $1 AND status = 'pending'`,
      [run.thread_id, ctx.identity],
    );
    const next = await releaseThread(ctx.db, client, {
      threadId: run.thread_id,
      status: "idle",
      headCheckpoint: null,
    });
    return { status: "cancelled" as const, job: next };
  });
  await dispatchRecorded(ctx, job);
  return { status };
}
