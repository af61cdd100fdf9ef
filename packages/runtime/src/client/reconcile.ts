import type { Db } from "../db.ts";
import type { Dispatcher } from "../dispatch.ts";
import { type StepJob, stepJobId } from "../jobs.ts";
import { activeRuns } from "../sql/runs.ts";

export interface ReconcileOptions {
  /** Only runs untouched for this long: younger ones may be between commit and enqueue. @defaultValue 5000 */
  minAgeMs?: number;
  /** Runs examined per call. @defaultValue 1000 */
  limit?: number;
}

/**
 * Postgres is the truth: every run that is pending at the head of its thread or running must
 * have a job in BullMQ. Those whose job is gone (a worker killed between commit and enqueue,
 * Redis flushed, a resume recorded while Redis was down) are enqueued again with the same
 * deterministic job id. Returns the runs re-enqueued.
 */
export async function reconcileRuns(
  db: Db,
  dispatcher: Dispatcher,
  options: ReconcileOptions = {},
): Promise<StepJob[]> {
  const runs = await activeRuns(db, options.minAgeMs ?? 5_000, options.limit ?? 1_000);
  const requeued: StepJob[] = [];
  for (const run of runs) {
    const job: StepJob = { threadId: run.thread_id, runId: run.id, checkpointId: run.checkpoint_id };
    const existing = await dispatcher.queue.getJob(stepJobId(job));
    const state = existing ? await existing.getState() : "missing";
    if (state !== "missing" && state !== "failed" && state !== "unknown") continue;
    if (existing) await existing.remove().catch(() => undefined);
    await dispatcher.enqueue(job);
    requeued.push(job);
  }
  return requeued;
}
