// Coalescing concurrent reads of one kind into one statement.
//
// Every statement costs a socket write and a wake-up of another process on each side, which
// on a small machine costs more than the rows it carries. A worker running eight jobs, or a
// producer waiting on fifty runs, issues the same read for many keys at nearly the same time:
// a batcher sends the first at once, alone — an idle process adds no latency — and the reads
// that arrive while it is in flight go out together as the next statement.

export interface ReadBatcherOptions {
  /**
   * Keys in one statement; more wait for the next.
   * @defaultValue 64
   */
  maxBatch?: number;
  /**
   * Statements of this kind in flight at once. A read that finds all of them busy joins the
   * next batch.
   * @defaultValue 1
   */
  maxInFlight?: number;
  /**
   * With maxInFlight above 1: a further statement goes out only once every statement in flight
   * has been for this long; until then the reads asked join the next batch. Quick statements
   * then go one at a time, in fuller batches, and a slow one (a very large row) still holds
   * back nothing for longer than this.
   * @defaultValue 0 (no wait)
   */
  holdMs?: number;
}

/** Reads the rows of `keys` (distinct); a key with no row is absent from the map. */
export type BatchRead<V> = (keys: readonly string[]) => Promise<ReadonlyMap<string, V>>;

interface Waiting<V> {
  resolve(value: V | undefined): void;
  reject(error: unknown): void;
}

export class ReadBatcher<V> {
  private readonly maxBatch: number;
  private readonly maxInFlight: number;
  /** Keys not sent yet, in arrival order, with everyone waiting on each. */
  private queued = new Map<string, Waiting<V>[]>();
  private inFlight = 0;
  /** When each statement in flight was sent (performance.now()). */
  private readonly sentAt = new Set<{ at: number }>();
  private readonly holdMs: number;
  private holdTimer: ReturnType<typeof setTimeout> | undefined;
  private readonly read: BatchRead<V>;

  constructor(read: BatchRead<V>, options: ReadBatcherOptions = {}) {
    this.read = read;
    this.maxBatch = Math.max(1, options.maxBatch ?? 64);
    this.maxInFlight = Math.max(1, options.maxInFlight ?? 1);
    this.holdMs = Math.max(0, options.holdMs ?? 0);
  }

  /** The row of `key`, read alone or together with other keys asked for meanwhile. */
  load(key: string): Promise<V | undefined> {
    return new Promise<V | undefined>((resolve, reject) => {
      const waiting = this.queued.get(key);
      if (waiting === undefined) this.queued.set(key, [{ resolve, reject }]);
      else waiting.push({ resolve, reject });
      this.drain();
    });
  }

  private drain(): void {
    while (this.inFlight < this.maxInFlight && this.queued.size > 0) {
      if (this.held()) return;
      const batch = this.take();
      const sent = { at: performance.now() };
      this.inFlight += 1;
      this.sentAt.add(sent);
      void this.send(batch).finally(() => {
        this.inFlight -= 1;
        this.sentAt.delete(sent);
        this.drain();
      });
    }
  }

  /**
   * True when a statement in flight was sent less than holdMs ago: the queued reads wait, and a
   * timer drains them once it is slow (or its answer drains them first).
   */
  private held(): boolean {
    if (this.holdMs === 0 || this.inFlight === 0) return false;
    const wait = Math.max(...[...this.sentAt].map((sent) => sent.at)) + this.holdMs - performance.now();
    if (wait <= 0) return false;
    if (this.holdTimer === undefined) {
      this.holdTimer = setTimeout(() => {
        this.holdTimer = undefined;
        this.drain();
      }, wait);
      this.holdTimer.unref?.();
    }
    return true;
  }

  /** The oldest `maxBatch` queued keys, removed from the queue. */
  private take(): Map<string, Waiting<V>[]> {
    if (this.queued.size <= this.maxBatch) {
      const all = this.queued;
      this.queued = new Map();
      return all;
    }
    const batch = new Map<string, Waiting<V>[]>();
    for (const [key, waiting] of this.queued) {
      if (batch.size === this.maxBatch) break;
      batch.set(key, waiting);
    }
    for (const key of batch.keys()) this.queued.delete(key);
    return batch;
  }

  private async send(batch: Map<string, Waiting<V>[]>): Promise<void> {
    try {
      const rows = await this.read([...batch.keys()]);
      for (const [key, waiting] of batch) for (const w of waiting) w.resolve(rows.get(key));
    } catch (error) {
      for (const waiting of batch.values()) for (const w of waiting) w.reject(error);
    }
  }
}
