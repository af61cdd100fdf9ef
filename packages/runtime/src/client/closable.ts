/**
 * The generator `make` builds, with a `close()` that ends it: the signal `make` gets aborts on
 * `close()` or when the caller's `signal` does, and the generator's `finally` runs even while it
 * waits at a part the app never takes.
 */
export function closable<T>(
  signal: AbortSignal | undefined,
  make: (stopped: AbortSignal) => AsyncGenerator<T>,
): AsyncGenerator<T> & { close(): void } {
  const stop = new AbortController();
  // AbortSignal.any adds no listener to the app's signal (one long-lived signal, many iterators).
  const stopped = signal === undefined ? stop.signal : AbortSignal.any([signal, stop.signal]);
  const parts = make(stopped);
  const close = () => {
    stop.abort();
    parts.return(undefined).catch(() => undefined);
  };
  return Object.assign(parts, { close });
}
