// The pending interrupts a client's wait last read, per thread: a resume that follows the wait
// answers them without reading them again. resume_thread checks under the thread's lock that
// they are still pending; when they are not, the resume reads them afresh (see resumeThread).
import type { InterruptRow } from "../sql/interrupts.ts";

/** How long a read stays usable, and how many threads are kept (the oldest read goes first). */
const KEEP_MS = 30_000;
const MAX_THREADS = 10_000;

export class SeenPending {
  private readonly byThread = new Map<string, { rows: readonly InterruptRow[]; at: number }>();

  /** The pending interrupts a wait just read for `threadId` (a parked run's). */
  remember(threadId: string, rows: readonly InterruptRow[]): void {
    this.byThread.delete(threadId);
    if (rows.length === 0) return;
    this.byThread.set(threadId, { rows, at: Date.now() });
    if (this.byThread.size > MAX_THREADS) this.byThread.delete(this.byThread.keys().next().value as string);
  }

  /** What was read for `threadId` in the last KEEP_MS, once: a second resume reads Postgres. */
  take(threadId: string): readonly InterruptRow[] | undefined {
    const seen = this.byThread.get(threadId);
    this.byThread.delete(threadId);
    return seen !== undefined && Date.now() - seen.at < KEEP_MS ? seen.rows : undefined;
  }
}
