// A job whose BullMQ lock a process lost: it was paused (a long GC pause, a VM its host froze, a
// laptop lid) or starved for longer than LOCK_DURATION_MS, and another replica may have taken the
// job over. What the late one then commits is Postgres's to refuse (a worker's compare-and-set
// finds the head moved on; a sweep's claim finds the interrupts resolved); what BullMQ says of
// the job is expected, not a failure.
import type { Worker } from "bullmq";
import type { Logger } from "pino";
import { isRedisConnectionError } from "./connections.ts";

/**
 * BullMQ's codes for a job this worker no longer holds when it moves it on (moveToFinished,
 * moveToDelayed, moveToWait): its key is gone (another worker finished it and it was removed),
 * its lock is gone, or another worker's token holds it (ErrorCode in bullmq's enums).
 */
const NOT_HELD: ReadonlySet<unknown> = new Set([-1, -2, -6]);

/**
 * BullMQ's code for a job whose hash is there and whose lock this worker holds, but which Redis's
 * active list no longer has (moveToFinished checks the lock first): Redis lost part of the
 * queue's state under the job (its keys deleted, a failover to a replica behind).
 */
const NOT_ACTIVE = -3;

/** The message of the error BullMQ emits beside `lockRenewalFailed`, once per job. */
const RENEWAL_FAILED = "could not renew lock for job ";

/**
 * How a worker's error reads when its cause is a lost lock: "renewal" for the renewal that failed
 * (the `lockRenewalFailed` event says it once, for every job), "not held" for moving on a job the
 * worker no longer holds; undefined for anything else.
 */
export function lostLockError(error: unknown): "renewal" | "not held" | undefined {
  if (!(error instanceof Error)) return undefined;
  if (error.message.startsWith(RENEWAL_FAILED)) return "renewal";
  return NOT_HELD.has((error as Error & { code?: unknown }).code) ? "not held" : undefined;
}

/**
 * Logs what a BullMQ Worker reports of itself: a dropped Redis connection is left to the
 * connection's own listener (connectRedis); a lost lock is said once per job as a warning (again
 * after ten minutes, if it is still lost), and moving on a job the process no longer holds (what
 * follows it) at info; a job Redis no longer lists as active at warn (what it did is in Postgres,
 * and reconciliation enqueues again a run that still needs a job); anything else is an error, `what`.
 */
export function logWorkerErrors(worker: Worker, logger: Logger, what: string): void {
  worker.on("error", (error) => {
    if (isRedisConnectionError(error)) return;
    const lost = lostLockError(error);
    if ((error as Error & { code?: unknown }).code === NOT_ACTIVE)
      logger.warn(
        { err: error },
        "job no longer in BullMQ's active list though this process held its lock: Redis lost part of the queue's state " +
          "(keys deleted, a failover); what the job committed is in Postgres, and reconciliation enqueues again a run that still needs a job",
      );
    else if (lost === undefined) logger.error({ err: error }, what);
    else if (lost === "not held")
      logger.info(
        { err: error },
        "job no longer held by this process (its lock was lost); left to the one that holds it",
      );
  });
  // BullMQ tries again to renew a lost lock every half lock duration, and says it failed each time.
  const said = new Map<string, number>(); // job id → when its lost lock was said
  worker.on("lockRenewalFailed", (jobIds) => {
    const now = Date.now();
    for (const [id, at] of said) if (now - at >= SAID_FOR_MS) said.delete(id);
    const fresh = jobIds.filter((id) => !said.has(id));
    for (const id of fresh) said.set(id, now);
    if (fresh.length > 0)
      logger.warn(
        { jobIds: fresh },
        "lost the lock of running jobs: this process was paused or starved for longer than LOCK_DURATION_MS, " +
          "and another replica may take them over; Postgres refuses what this one then commits late",
      );
  });
}

/** How long a job's lost lock is not said again while BullMQ keeps failing to renew it. */
const SAID_FOR_MS = 10 * 60_000;
