// Whether a worker process stood still: a SIGSTOP, a paused VM, a long GC pause, a node blocking
// the event loop. BullMQ renews a job's lock every half lock duration, so a stand-still of that
// long may have let one lapse (lock-fence.ts).

/**
 * Watches the event loop: a tick that comes `thresholdMs` or more after the one before says the
 * process stood still. Unref'd: it keeps no process alive.
 */
export class PauseWatch {
  private lastTick = performance.now();
  private lastStandStillEnd = Number.NEGATIVE_INFINITY;
  private readonly timer: NodeJS.Timeout;
  private readonly thresholdMs: number;

  constructor(thresholdMs: number) {
    this.thresholdMs = thresholdMs;
    this.timer = setInterval(() => this.tick(), Math.max(10, Math.min(250, thresholdMs / 4)));
    this.timer.unref();
  }

  private tick(): void {
    const now = performance.now();
    if (now - this.lastTick >= this.thresholdMs) this.lastStandStillEnd = now;
    this.lastTick = now;
  }

  /** Whether the process stood still for thresholdMs or more after `since` (a performance.now() time), or stands still now. */
  stoodStillSince(since: number): boolean {
    return this.lastStandStillEnd > since || performance.now() - this.lastTick >= this.thresholdMs;
  }

  /** A lock renewal failed (no stand-still this watch could see: a paused VM's clock stops too): counts as one now. */
  lapsed(): void {
    this.lastStandStillEnd = performance.now();
  }

  stop(): void {
    clearInterval(this.timer);
  }
}
