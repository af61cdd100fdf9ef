import { InvalidInputError } from "@layover/graph";
import type { Db } from "../db.ts";
import type { Dispatcher } from "../dispatch.ts";
import { type StepJob, stepJobId } from "../jobs.ts";
import { activeRuns, type RunRow } from "../sql/runs.ts";

export interface ReconcileOptions {
  /** Only runs untouched for this long: younger ones may be between commit and enqueue. @defaultValue 5000 */
  minAgeMs?: number;
  /** Runs examined per call, oldest first. @defaultValue 50000 */
  limit?: number;
  /** Runs read per query, and checked against BullMQ at once. @defaultValue 1000 */
  pageSize?: number;
  /**
   * A job that failed every attempt (Postgres unreachable for longer than its retries) is
   * enqueued again once it has been failed this long, twice as long after each further failure,
   * up to an hour: a run recovers after an outage without a job that always fails being
   * retried without pause. @defaultValue 30000
   */
  failedBackoffMs?: number;
}

export const RECONCILE_OPTIONS = [
  "minAgeMs",
  "limit",
  "pageSize",
  "failedBackoffMs",
] as const satisfies readonly (keyof ReconcileOptions)[];

/** The longest a failed job waits for reconciliation to enqueue it again. */
const MAX_FAILED_BACKOFF_MS = 3_600_000;

/**
 * Whether a job that failed every attempt at `failedOn` is due to be enqueued again at `now`:
 * `backoffMs` after it failed, doubling with each time it was enqueued again already, at most an hour.
 */
export function failedJobDue(requeues: number, failedOn: number, now: number, backoffMs: number): boolean {
  return now - failedOn >= Math.min(backoffMs * 2 ** requeues, MAX_FAILED_BACKOFF_MS);
}

/**
 * The longest minAgeMs or failedBackoffMs taken: a century. Postgres computes now() - minAgeMs,
 * and a time before its earliest timestamp (4713 BC) fails the query.
 */
const MAX_DURATION_MS = 100 * 365 * 24 * 3_600_000;

/** Refuses an option Postgres or the backoff would misread, naming it. */
function checkOptions(options: ReconcileOptions): void {
  const counts = { limit: options.limit, pageSize: options.pageSize };
  for (const [name, value] of Object.entries(counts))
    if (value !== undefined && !(Number.isSafeInteger(value) && value > 0))
      throw new InvalidInputError(`reconcile: ${name} must be a whole number above 0; got ${String(value)}.`);
  const durations = { minAgeMs: options.minAgeMs, failedBackoffMs: options.failedBackoffMs };
  for (const [name, value] of Object.entries(durations))
    if (value !== undefined && !(typeof value === "number" && value >= 0 && value <= MAX_DURATION_MS))
      throw new InvalidInputError(
        `reconcile: ${name} must be milliseconds from 0 to ${MAX_DURATION_MS} (a century); got ${String(value)}.`,
      );
}

/** A step enqueued again; `failedReason` says why the job it replaces failed, if it did. */
export type Requeued = StepJob & { failedReason?: string };

/**
 * Postgres is the truth: every run that is pending at the head of its thread or running must
 * have a job in BullMQ. Those whose job is gone (a worker killed between commit and enqueue,
 * Redis flushed, a resume recorded while Redis was down) are enqueued again with the same
 * deterministic job id, and so are failed ones, after a backoff (at once for a run cancelled since
 * its job failed: see failedBeforeCancel). Returns the steps enqueued.
 */
export async function reconcileRuns(
  db: Db,
  dispatcher: Dispatcher,
  options: ReconcileOptions = {},
): Promise<Requeued[]> {
  checkOptions(options);
  const limit = options.limit ?? 50_000;
  const pageSize = Math.min(options.pageSize ?? 1_000, limit);
  const requeued: Requeued[] = [];
  let after: { cursor: string; id: string } | undefined;
  for (let examined = 0; examined < limit; ) {
    const runs = await activeRuns(db, options.minAgeMs ?? 5_000, Math.min(pageSize, limit - examined), after);
    requeued.push(...(await reconcilePage(dispatcher, runs, options.failedBackoffMs ?? 30_000)));
    examined += runs.length;
    const last = runs.at(-1);
    if (last === undefined || runs.length < pageSize) break;
    after = { cursor: last.cursor, id: last.id };
  }
  return requeued;
}

/**
 * Whether `run` was cancelled after its job last failed: that failure was the run's (its graph not
 * served, Postgres down), and the job now only hands the thread on, which any worker does. It is
 * enqueued again at once, not after the failure's backoff (up to an hour, the thread busy and
 * undeletable meanwhile); a hand-on that fails itself backs off as any job.
 */
function failedBeforeCancel(run: RunRow, failedOn: number | undefined): boolean {
  return run.status === "cancelled" && (failedOn ?? 0) < run.updated_at.getTime();
}

/** Enqueues again the page's runs whose job is missing, or failed and past its backoff. */
async function reconcilePage(
  dispatcher: Dispatcher,
  runs: readonly RunRow[],
  backoffMs: number,
): Promise<Requeued[]> {
  const steps = runs.map(
    (run): StepJob => ({ threadId: run.thread_id, runId: run.id, checkpointId: run.checkpoint_id }),
  );
  const states = await Promise.all(steps.map((step) => dispatcher.queue.getJobState(stepJobId(step))));
  const requeued: Requeued[] = [];
  for (const [i, step] of steps.entries()) {
    const state = states[i];
    if (state !== "failed" && state !== "unknown") continue;
    const existing = await dispatcher.queue.getJob(stepJobId(step));
    if (existing && state === "failed" && !failedBeforeCancel(runs[i] as RunRow, existing.finishedOn)) {
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
