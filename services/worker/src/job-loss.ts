// A job this worker no longer holds: its BullMQ lock lapsed (the process stood still, Redis was
// out of reach past the lock's duration, the key was evicted or deleted) and the job was, or will
// be, handed out again: another worker, or this one, may be running it already. Its nodes'
// signal aborts then, as a cancel aborts it, so a model call or a booking the node gave its
// signal stops instead of running a second time beside the other attempt's.
import { isLayoverError, LayoverError } from "@layover/checkpoint";

/**
 * A job's commit refused because its lock lapsed: the job is another worker's. One of Layover's
 * own errors, so no retry policy retries it.
 */
export class JobLockLostError extends LayoverError<"JOB_LOCK_LOST"> {
  constructor() {
    super(
      "JOB_LOCK_LOST",
      "this job's lock lapsed (its process stood still, or could not renew it in time, or Redis " +
        "lost it) and the job is no longer this worker's: nothing more of its run is stored here; " +
        "the worker that holds the job goes on with the run",
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

/** One attempt of a job running here: its loss, and whether it has left. */
interface Attempt {
  loss: JobLoss;
  left: Promise<void>;
}

/**
 * The attempts this worker runs, by BullMQ job id: BullMQ names the jobs whose lock renewal failed
 * (`lockRenewalFailed`), and a renewal fails only when the lock is gone or another worker's.
 *
 * Several attempts of one job id may run here at once: this worker took the job again after
 * losing it (its lock lapsed, and the stalled-job check handed it out again, or Redis lost it and
 * reconciliation enqueued it again). BullMQ hands a job out only with a new lock, so the older
 * attempt is lost when the newer one begins. And BullMQ renews one lock per job id, the newest
 * attempt's, and stops renewing it when any attempt of the id returns: so an older attempt leaves
 * (`leave`, awaited before its processor returns) only once the newer ones have, or the newer
 * one's lock would lapse while it runs, and the job be handed out again and again.
 */
export class JobLosses {
  private readonly byJob = new Map<string, Attempt[]>();

  /** An attempt of `jobId` that begins now (earlier ones here are lost); await `leave` as it ends. */
  track(jobId: string): { loss: JobLoss; leave: () => Promise<void> } {
    const attempts = this.byJob.get(jobId) ?? [];
    for (const earlier of attempts) earlier.loss.lose();
    let markLeft = () => {};
    const left = new Promise<void>((resolve) => {
      markLeft = resolve;
    });
    const attempt: Attempt = { loss: new JobLoss(), left };
    attempts.push(attempt);
    this.byJob.set(jobId, attempts);
    const leave = async () => {
      for (let newer = newerThan(attempts, attempt); newer.length > 0; newer = newerThan(attempts, attempt))
        await Promise.all(newer.map((other) => other.left));
      attempts.splice(attempts.indexOf(attempt), 1);
      if (attempts.length === 0 && this.byJob.get(jobId) === attempts) this.byJob.delete(jobId);
      markLeft();
    };
    return { loss: attempt.loss, leave };
  }

  /** Every attempt of `jobIds` running here is lost. */
  lose(jobIds: readonly string[]): void {
    for (const jobId of jobIds) for (const attempt of this.byJob.get(jobId) ?? []) attempt.loss.lose();
  }
}

function newerThan(attempts: readonly Attempt[], attempt: Attempt): Attempt[] {
  return attempts.slice(attempts.indexOf(attempt) + 1);
}
