// A job's commits fenced by its BullMQ lock, as far as its worker can see. BullMQ renews a job's
// lock every half lock duration; a process that stood still longer than that (SIGSTOP, a paused
// VM, a long GC pause, a node blocking the event loop) may have let it lapse, and another worker
// may have taken the job over. Postgres keeps each superstep committed once whoever commits it
// (the thread's head), but the job that lapsed would commit what its run's stream never shows:
// its appends are fenced by the lock. So after such a stand-still a job reads its lock before its
// next commit, and stops where another worker holds it. With no stand-still, nothing is read.
import { isLayoverError, LayoverError } from "@layover/checkpoint";
import { type JobLock, orLate, REDIS_WAIT_MS } from "@layover/runtime";
import type { WorkerContext } from "./context.ts";

/**
 * A job's commit refused because its lock lapsed while its process stood still: the job is
 * another worker's. One of Layover's own errors, so no retry policy retries it.
 */
export class JobLockLostError extends LayoverError<"JOB_LOCK_LOST"> {
  constructor() {
    super(
      "JOB_LOCK_LOST",
      "this job's lock lapsed while its process stood still, and it is no longer this worker's: " +
        "nothing more of its run is stored here; the worker that holds the job goes on with the run",
    );
  }
}

/** Whether `error`, or an error it was caused by (a node whose subgraph's commit was refused), is a JobLockLostError. */
export function isJobLockLost(error: unknown): boolean {
  for (let at = error, depth = 0; at !== undefined && at !== null && depth < 8; depth++) {
    if (isLayoverError(at, "JOB_LOCK_LOST")) return true;
    at = (at as { cause?: unknown }).cause;
  }
  return false;
}

/**
 * The check before each of a job's commits (GuardedSaver's `before`): nothing while its process
 * has not stood still since the job began or since the last check; else a read of its lock,
 * again if the process stood still while the answer was on its way, failing the commit with
 * JobLockLostError when another worker holds it (or none does), and every commit after it.
 * Undefined for a job without a lock. Not caught: a stand-still after the check, before the
 * statement leaves (one turn of the event loop); a fence in Postgres itself would close that.
 */
export function lockFence(ctx: WorkerContext, lock: JobLock | undefined, startedAt: number) {
  if (lock === undefined) return undefined;
  let checkedAt = startedAt;
  let lost = false;
  const check = (): Promise<void> | undefined => {
    if (lost) return Promise.reject(new JobLockLostError());
    const now = performance.now();
    if (!ctx.pauses.stoodStillSince(checkedAt)) {
      checkedAt = now;
      return undefined;
    }
    return orLate(ctx.dispatcher.holdsLock(lock), REDIS_WAIT_MS, "reading the job's lock").then((held) => {
      if (!held) {
        lost = true;
        throw new JobLockLostError();
      }
      checkedAt = now;
      return check();
    });
  };
  return check;
}
