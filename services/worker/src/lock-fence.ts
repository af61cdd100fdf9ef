// A job's commits fenced by its BullMQ lock, as far as its worker can see. BullMQ renews a job's
// lock every half lock duration; a process that stood still longer than that (SIGSTOP, a paused
// VM, a long GC pause, a node blocking the event loop) may have let it lapse, and another worker
// may have taken the job over. Postgres keeps each superstep committed once whoever commits it
// (the thread's head), but the job that lapsed would commit what its run's stream never shows:
// its appends are fenced by the lock. So after such a stand-still a job reads its lock before its
// next commit, and stops where another worker holds it. With no stand-still, nothing is read.
import { type JobLock, orLate, REDIS_WAIT_MS } from "@layover/runtime";
import type { WorkerContext } from "./context.ts";
import { JobLockLostError, type JobLoss } from "./job-loss.ts";

/**
 * The check before each of a job's commits (GuardedSaver's `before`): nothing while its process
 * has not stood still since the job began or since the last check; else a read of its lock,
 * again if the process stood still while the answer was on its way. When another worker holds
 * it (or none does), the job is lost (`loss`: its nodes' signal aborts), and this commit and
 * every one after it fail with JobLockLostError, as they do once BullMQ found the lock lost
 * when renewing it. Undefined for a job without a lock. Not caught: a stand-still after the
 * check, before the statement leaves (one turn of the event loop); a fence in Postgres itself
 * would close that.
 */
export function lockFence(
  ctx: WorkerContext,
  lock: JobLock | undefined,
  { startedAt, loss }: { startedAt: number; loss: JobLoss },
) {
  if (lock === undefined) return undefined;
  let checkedAt = startedAt;
  const check = (): Promise<void> | undefined => {
    if (loss.lost) return Promise.reject(new JobLockLostError());
    const now = performance.now();
    if (!ctx.pauses.stoodStillSince(checkedAt)) {
      checkedAt = now;
      return undefined;
    }
    return orLate(ctx.dispatcher.holdsLock(lock), REDIS_WAIT_MS, "reading the job's lock").then((held) => {
      if (!held) {
        loss.lose();
        throw new JobLockLostError();
      }
      checkedAt = now;
      return check();
    });
  };
  return check;
}
