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
 * active list no longer has (moveToFinished, moveToDelayed and retryJob check the lock first).
 * BullMQ's own scripts never part the two, so some of the queue's keys went outside them:
 * deleted (an operator's DEL, a paginated obliterate) or evicted under a maxmemory policy.
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
 * follows it) at info; a job Redis no longer lists as active at warn (see NOT_ACTIVE); anything
 * else is an error, `what`.
 */
export function logWorkerErrors(worker: Worker, logger: Logger, what: string): void {
  worker.on("error", workerErrorLogger(logger, what));
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
          "or Redis lost its keys (a restart without persistence, a flush); another replica may take them over, " +
          "and Postgres refuses what this one then commits late",
      );
  });
}

/** How long a job's lost lock is not said again while BullMQ keeps failing to renew it. */
const SAID_FOR_MS = 10 * 60_000;

/**
 * BullMQ's `-3` removed the job's lock before it found the job missing from the active list, so
 * the attempt's failure that follows (moveToDelayed: "Missing lock") is the same event, not a
 * lock another process took: said once, at warn.
 */
function workerErrorLogger(logger: Logger, what: string): (error: Error) => void {
  const gone = new Map<string, number>(); // job id → when Redis was found without it
  const sayError = repeatedErrors(logger, what);
  return (error) => {
    if (isRedisConnectionError(error)) return;
    const now = Date.now();
    for (const [id, at] of gone) if (now - at >= SAID_FOR_MS) gone.delete(id);
    const id = jobIdOf(error.message);
    if ((error as Error & { code?: unknown }).code === NOT_ACTIVE) {
      if (id !== undefined) gone.set(id, now);
      logger.warn(
        { err: error },
        "job no longer in BullMQ's active list though this process held its lock: some of the queue's Redis keys " +
          "were deleted outside BullMQ or evicted (Redis needs maxmemory-policy noeviction); what the job committed " +
          "is in Postgres, and what is still to do is queued again (a run by reconciliation, a schedule when it next comes round)",
      );
      return;
    }
    const lost = lostLockError(error);
    if (lost === undefined) sayError(error);
    else if (lost === "not held" && (id === undefined || !gone.has(id)))
      logger.info(
        { err: error },
        "job no longer held by this process (its lock was lost); left to the one that holds it",
      );
  };
}

/** How long the same worker error is not said again (how many more times it came is said then). */
const REPEAT_WINDOW_MS = 10_000;

/**
 * Says an error the first time its message comes, then, `windowMs` later, how many more times it
 * came meanwhile (if it did), and forgets it: a burst BullMQ repeats at once (a Redis out of
 * memory refuses every command) is two lines a window, not thousands, and one that stops is
 * still counted.
 */
export function repeatedErrors(
  logger: Logger,
  what: string,
  windowMs = REPEAT_WINDOW_MS,
): (error: Error) => void {
  const seen = new Map<string, { more: number; last: Error }>();
  return (error) => {
    const entry = seen.get(error.message);
    if (entry !== undefined) {
      entry.more += 1;
      entry.last = error;
      return;
    }
    logger.error({ err: error }, what);
    const fresh = { more: 0, last: error };
    seen.set(error.message, fresh);
    setTimeout(() => {
      seen.delete(error.message);
      if (fresh.more > 0)
        logger.error(
          { err: fresh.last, repeated: fresh.more },
          `${what}: the same error ${fresh.more} more times in ${windowMs / 1000} s`,
        );
    }, windowMs).unref();
  };
}

/** The job a BullMQ script error names ("Job <id> is not in the active state. …", "Missing lock for job <id>. …"). */
function jobIdOf(message: string): string | undefined {
  return (
    /^Job (.+) is not in the active state\./.exec(message)?.[1] ?? /for job (.+)\. \w+/.exec(message)?.[1]
  );
}
