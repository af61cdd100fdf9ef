// How a run moves once a worker holds it. Each function runs inside the caller's transaction
// and is conditional on the run still being "running": a run cancelled meanwhile stays cancelled.
import type { Db, Queryable } from "./db.ts";
import type { StepJob } from "./jobs.ts";
import { insertInterrupts, type NewInterrupt } from "./sql/interrupts.ts";
import { nextQueuedRun, type RunRow } from "./sql/runs.ts";
import { setThreadState } from "./sql/threads.ts";

/** Marks the run running (first job) and records that its input is on the thread. */
export async function markPrepared(
  db: Db,
  q: Queryable,
  runId: string,
  worker: string,
  checkpointId: string,
) {
  const { rowCount } = await q.query(
    `UPDATE ${db.table("runs")}
        SET status = 'running', prepared = true, checkpoint_id = $3, started_by = COALESCE(started_by, $2),
            last_worker = $2, started_at = COALESCE(started_at, now()), updated_at = now()
      WHERE id = $1 AND status IN ('pending', 'running')`,
    [runId, worker, checkpointId],
  );
  return rowCount === 1;
}

/** Records the checkpoint the run's next job advances from. False when the run was cancelled. */
export async function recordProgress(
  db: Db,
  q: Queryable,
  args: { runId: string; worker: string; checkpointId: string; steps: number },
): Promise<boolean> {
  const { rowCount } = await q.query(
    `UPDATE ${db.table("runs")}
        SET checkpoint_id = $3, last_worker = $2, steps = steps + $4, updated_at = now()
      WHERE id = $1 AND status = 'running'`,
    [args.runId, args.worker, args.checkpointId, args.steps],
  );
  return rowCount === 1;
}

async function settleRun(
  db: Db,
  q: Queryable,
  args: { run: RunRow; worker: string; checkpointId: string | null; steps: number; status: RunRow["status"] },
  error: RunRow["error"] = null,
): Promise<boolean> {
  const parked = args.status === "interrupted";
  const { rowCount } = await q.query(
    `UPDATE ${db.table("runs")}
        SET status = $3, checkpoint_id = COALESCE($4, checkpoint_id), steps = steps + $5, last_worker = $2, error = $6,
            parked_by = CASE WHEN $7 THEN $2 ELSE parked_by END,
            finished_by = CASE WHEN $7 THEN finished_by ELSE $2 END,
            finished_at = CASE WHEN $7 THEN finished_at ELSE now() END, updated_at = now()
      WHERE id = $1 AND status = 'running'`,
    [
      args.run.id,
      args.worker,
      args.status,
      args.checkpointId,
      args.steps,
      error && JSON.stringify(error),
      parked,
    ],
  );
  return rowCount === 1;
}

/**
 * Hands the thread to its next queued run, or leaves it `status`. A thread left waiting for a
 * person only takes a queued resume (a queued start waits until the thread is answered).
 */
export async function releaseThread(
  db: Db,
  q: Queryable,
  args: { threadId: string; status: "idle" | "interrupted" | "error"; headCheckpoint: string | null },
): Promise<StepJob | null> {
  const next = await nextQueuedRun(db, q, args.threadId);
  if (next && (args.status !== "interrupted" || next.kind === "resume")) {
    await setThreadState(db, q, args.threadId, {
      status: "busy",
      currentRunId: next.id,
      headCheckpoint: args.headCheckpoint,
    });
    return { threadId: args.threadId, runId: next.id, checkpointId: next.checkpoint_id };
  }
  await setThreadState(db, q, args.threadId, {
    status: args.status,
    currentRunId: null,
    headCheckpoint: args.headCheckpoint,
  });
  return null;
}

export interface Settled {
  /** False when the run had been cancelled: nothing was changed. */
  applied: boolean;
  /** The thread's next run to enqueue, if one was waiting. */
  next: StepJob | null;
}

/** Parks a run: its interrupts recorded with their deadlines, the thread waiting for a person. */
export async function parkRun(
  db: Db,
  q: Queryable,
  args: { run: RunRow; worker: string; checkpointId: string; steps: number; interrupts: NewInterrupt[] },
): Promise<Settled> {
  if (!(await settleRun(db, q, { ...args, status: "interrupted" }))) return { applied: false, next: null };
  await insertInterrupts(db, q, args.interrupts);
  const next = await releaseThread(db, q, {
    threadId: args.run.thread_id,
    status: "interrupted",
    headCheckpoint: args.checkpointId,
  });
  return { applied: true, next };
}

/** Ends a run: success, or error with what failed. */
export async function finishRun(
  db: Db,
  q: Queryable,
  args: { run: RunRow; worker: string; checkpointId: string | null; steps: number; error?: RunRow["error"] },
): Promise<Settled> {
  const status = args.error ? "error" : "success";
  if (!(await settleRun(db, q, { ...args, status }, args.error ?? null)))
    return { applied: false, next: null };
  const next = await releaseThread(db, q, {
    threadId: args.run.thread_id,
    status: args.error ? "error" : "idle",
    headCheckpoint: args.checkpointId,
  });
  return { applied: true, next };
}
