// A job's commits fenced by its BullMQ lock, as far as its worker can see. BullMQ renews a job's
// lock every half lock duration; a process that stood still longer than that (SIGSTOP, a paused
// VM, a long GC pause, a node blocking the event loop) may have let it lapse, and another worker
// may have taken the job over. Postgres keeps each superstep committed once whoever commits it
// (the thread's head), but the job that lapsed would commit what its run's stream never shows:
// its appends are fenced by the lock. So after such a stand-still a job reads its lock before its
// next commit, and stops where another worker holds it. With no stand-still, nothing is read.
import type { JobLock } from "@layover/runtime";
import type { WorkerContext } from "./context.ts";

/** A job's commit refused because its lock lapsed while its process stood still: the job is another worker's. */
export class JobLockLostError extends Error {
  constructor() {
    super(
      "this job's lock lapsed while its process stood still, and it is no longer this worker's: " +
        "its superstep is not stored; the worker that holds the job goes on with the run",
    );
    this.name = "JobLockLostError";
  }
}

/**
 * The check before each of a job's commits (GuardedSaver's `before`): nothing while its process
 * has not stood still since the last check; else one read of its lock, failing the commit with
 * JobLockLostError when another worker holds it (or none does). Undefined for a job without a lock.
 */
export function lockFence(ctx: WorkerContext, lock: JobLock | undefined) {
  if (lock === undefined) return undefined;
  let checkedAt = performance.now();
  return (): Promise<void> | undefined => {
    const now = performance.now();
    if (!ctx.pauses.stoodStillSince(checkedAt)) {
      checkedAt = now;
      return undefined;
    }
    return ctx.dispatcher.holdsLock(lock).then((held) => {
      if (!held) throw new JobLockLostError();
      checkedAt = now;
    });
  };
}
