import type { Db } from "../db.ts";
import type { Dispatcher } from "../dispatch.ts";
import { type StepJob, stepJobId } from "../jobs.ts";
import { activeRuns } from "../sql/runs.ts";

export interface ReconcileOptions {
  /** Only runs untouched for this long: younger ones may be between commit and enqueue. @defaultValue 5000 */
  minAgeMs?: number;
  /** Runs examined per call. @defaultValue 1000 */
  limit?: number;
  /**
   * A job that failed every attempt (Postgres unreachable for longer than its retries) is
   * enqueued again once it has been failed this long, twice as long after each further failure,
   * up to an hour: a run recovers after an outage without a job that always fails being
   * retried without pause. @defaultValue 30000
   */
  failedBackoffMs?: number;
}

/** The longest a failed job waits for reconciliation to enqueue it again. */
const MAX_FAILED_BACKOFF_MS = 3_600_000;

/**
 * Whether a job that failed every attempt at `failedOn` is due to be enqueued again at `now`:
 * `backoffMs` after it failed, doubling with each time it was enqueued again already, at most an hour.
 */
export function failedJobDue(requeues: number, failedOn: number, now: number, backoffMs: number): boolean {
  return now - failedOn >= Math.min(backoffMs * 2 ** requeues, MAX_FAILED_BACKOFF_MS);
}

/** A step enqueued again; `failedReason` says why the job it replaces failed, if it did. */
export type Requeued = StepJob & { failedReason?: string };

/**
 * Postgres is the truth: every run that is pending at the head of its thread or running must
 * have a job in BullMQ. Those whose job is gone (a worker killed between commit and enqueue,
 * Redis flushed, a resume recorded while Redis was down) are enqueued again with the same
 * deterministic job id, and so are failed ones, after a backoff. Returns the steps enqueued.
 */
export async function reconcileRuns(
  db: Db,
  dispatcher: Dispatcher,
  options: ReconcileOptions = {},
): Promise<Requeued[]> {
  const runs = await activeRuns(db, options.minAgeMs ?? 5_000, options.limit ?? 1_000);
  const backoffMs = options.failedBackoffMs ?? 30_000;
  const requeued: Requeued[] = [];
  for (const run of runs) {
    const step: StepJob = { threadId: run.thread_id, runId: run.id, checkpointId: run.checkpoint_id };
    const existing = await dispatcher.queue.getJob(stepJobId(step));
    const state = existing ? await existing.getState() : "missing";
    if (state !== "missing" && state !== "failed" && state !== "unknown") continue;
    if (existing && state === "failed") {
      const requeues = existing.data.requeues ?? 0;
      if (!failedJobDue(requeues, existing.finishedOn ?? 0, Date.now(), backoffMs)) continue;
      step.requeues = requeues + 1;
    }
    if (existing) await existing.remove().catch(() => undefined);
    await dispatcher.enqueue(step);
    requeued.push(existing?.failedReason ? { ...step, failedReason: existing.failedReason } : step);
  }
  return requeued;
}
