// A job whose BullMQ lock this worker lost: the process was paused (a long GC pause, a VM its
// host froze, a laptop lid) or starved for longer than LOCK_DURATION_MS, and another worker may
// have taken the job over. What the late worker then commits is Postgres's to refuse (its
// compare-and-set finds the head moved on); what BullMQ says of the job is expected, not a failure.

/**
 * BullMQ's codes for a job this worker no longer holds when it moves it on (moveToFinished,
 * moveToDelayed, moveToWait): its key is gone (another worker finished it and it was removed),
 * its lock is gone, or another worker's token holds it (ErrorCode in bullmq's enums).
 */
const NOT_HELD: ReadonlySet<unknown> = new Set([-1, -2, -6]);

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
