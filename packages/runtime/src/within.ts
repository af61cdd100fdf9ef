/**
 * How long a producer's call waits for Redis to take a job or an event of a change already
 * recorded in Postgres. The connection queues commands through a reconnect, so without a bound
 * a call made while Redis is down would never return.
 */
export const REDIS_WAIT_MS = 2_000;

/** `promise`'s value, or undefined once `ms` have passed (or if it rejected), whichever is first. */
export function within<T>(promise: Promise<T>, ms: number): Promise<T | undefined> {
  return orLate(promise, ms, "within").catch(() => undefined);
}

/** What orLate rejects with when its time ran out. */
export class NoAnswerError extends Error {
  override name = "NoAnswerError";
}

/**
 * `promise`, or a rejection saying `what` did not happen within `ms`, whichever is first. The
 * promise still runs: a Redis command queued through a reconnect is sent once Redis is back.
 */
export async function orLate<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new NoAnswerError(`${what}: no answer within ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([promise, late]);
  } finally {
    clearTimeout(timer);
  }
}
