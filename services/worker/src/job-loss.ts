// A job this worker no longer holds: its BullMQ lock lapsed (the process stood still, Redis was
// out of reach past the lock's duration) and another worker may be running it already. Its
// nodes' signal aborts then, as a cancel aborts it, so a model call or a booking the node gave
// its signal stops instead of running a second time beside the other worker's.
import { isLayoverError, LayoverError } from "@layover/checkpoint";

/**
 * A job's commit refused because its lock lapsed: the job is another worker's. One of Layover's
 * own errors, so no retry policy retries it.
 */
export class JobLockLostError extends LayoverError<"JOB_LOCK_LOST"> {
  constructor() {
    super(
      "JOB_LOCK_LOST",
      "this job's lock lapsed (its process stood still, or could not renew it in time), and it is " +
        "no longer this worker's: nothing more of its run is stored here; the worker that holds " +
        "the job goes on with the run",
    );
  }
}

/**
 * Whether `error`, or an error it was caused by, is a JobLockLostError: a node whose subgraph's
 * commit was refused, a call its lost job's signal aborted (JobLostSignal).
 */
export function isJobLockLost(error: unknown): boolean {
  for (let at = error, depth = 0; at !== undefined && at !== null && depth < 8; depth++) {
    if (isLayoverError(at, "JOB_LOCK_LOST")) return true;
    at = (at as { cause?: unknown }).cause;
  }
  return false;
}

/**
 * The reason a lost job's signal gives (`signal.reason`): an AbortError, as fetch's, so a node's
 * `error.name === "AbortError"` checks keep working; its cause is the JobLockLostError.
 */
export class JobLostSignal extends Error {
  override name = "AbortError";
  constructor() {
    super("This job's lock lapsed: another worker runs it now.", { cause: new JobLockLostError() });
  }
}

/** One attempt of a job, lost or not: once lost, it stays lost, and its signal has aborted. */
export class JobLoss {
  private readonly controller = new AbortController();

  /** Aborts when the job is lost: what its nodes get as `config.signal` (with the run's cancel). */
  get signal(): AbortSignal {
    return this.controller.signal;
  }

  get lost(): boolean {
    return this.controller.signal.aborted;
  }

  lose(): void {
    if (!this.lost) this.controller.abort(new JobLostSignal());
  }
}

/**
 * The attempts this worker runs, by BullMQ job id: BullMQ names the jobs whose lock renewal failed
 * (`lockRenewalFailed`), and a renewal fails only when the lock is gone or another worker's.
 * Several attempts of one job id may run here at once: this worker took the job again after
 * losing it (its lock lapsed, and the stalled-job check handed it out again). BullMQ renews one
 * lock per job id, the newest attempt's, so the older attempt's loss is told by no failed
 * renewal: it is lost when the newer one begins, since a job is handed out only with a new lock.
 */
export class JobLosses {
  private readonly byJob = new Map<string, Set<JobLoss>>();

  /** A loss for an attempt of `jobId` that begins now (earlier ones here are lost); `untrack` when it ends. */
  track(jobId: string): { loss: JobLoss; untrack: () => void } {
    const loss = new JobLoss();
    const attempts = this.byJob.get(jobId) ?? new Set<JobLoss>();
    for (const earlier of attempts) earlier.lose();
    attempts.add(loss);
    this.byJob.set(jobId, attempts);
    const untrack = () => {
      attempts.delete(loss);
      if (attempts.size === 0 && this.byJob.get(jobId) === attempts) this.byJob.delete(jobId);
    };
    return { loss, untrack };
  }

  /** Every attempt of `jobIds` running here is lost. */
  lose(jobIds: readonly string[]): void {
    for (const jobId of jobIds) for (const loss of this.byJob.get(jobId) ?? []) loss.lose();
  }
}
