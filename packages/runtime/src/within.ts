/** `promise`'s value, or undefined once `ms` have passed (or if it rejected), whichever is first. */
export function within<T>(promise: Promise<T>, ms: number): Promise<T | undefined> {
  return orLate(promise, ms, "within").catch(() => undefined);
}

/**
 * `promise`, or a rejection saying `what` did not happen within `ms`, whichever is first. The
 * promise still runs: a Redis command queued through a reconnect is sent once Redis is back.
 */
export async function orLate<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: no answer within ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([promise, late]);
  } finally {
    clearTimeout(timer);
  }
}
