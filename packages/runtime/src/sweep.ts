import { type Db, inTransaction } from "./db.ts";
import type { Dispatcher } from "./dispatch.ts";
import { expireDueInterrupts } from "./sql/expire-due-interrupts.ts";

export interface SweepOptions {
  /** Threads claimed per transaction. @defaultValue 1000 */
  batchSize?: number;
  /** Batches per call, so one sweep cannot run forever. @defaultValue 100 */
  maxBatches?: number;
  /**
   * Told each batch's threads, resumed with their timeout values (for a log of which), and how
   * many interrupts expired with them, once the batch is recorded.
   */
  onResumed?: (threadIds: string[], interrupts: number) => void;
}

/**
 * Expires every pending interrupt whose deadline has passed: each resumes its node with the
 * interrupt's `onTimeout` value (default: the documented timeout rejection), with the same
 * atomic pending → expired transition a person's resume uses, and the thread is enqueued.
 * Safe with several scheduler replicas. Returns the number of threads resumed.
 */
export async function sweepExpiredInterrupts(db: Db, dispatcher: Dispatcher, options: SweepOptions = {}) {
  const batchSize = options.batchSize ?? 1_000;
  let resumed = 0;
  for (let batch = 0; batch < (options.maxBatches ?? 100); batch++) {
    const expired = await inTransaction(db, (client) => expireDueInterrupts(db, client, batchSize));
    // Recorded in Postgres first: a failed enqueue is repaired by reconciliation. One round
    // trip per batch: a thousand separate adds cost a thousand socket writes.
    await dispatcher
      .enqueueMany(
        expired
          .filter((run) => run.dispatch)
          .map((run) => ({ threadId: run.thread_id, runId: run.run_id, checkpointId: run.checkpoint_id })),
      )
      .catch(() => undefined);
    resumed += expired.length;
    if (expired.length > 0)
      options.onResumed?.(
        expired.map((run) => run.thread_id),
        expired.reduce((interrupts, run) => interrupts + run.expired, 0),
      );
    // A batch claims up to batchSize interrupts, which can be fewer threads: go on until one
    // claims nothing (threads other replicas hold are skipped; they sweep those).
    if (expired.length === 0) break;
  }
  return resumed;
}
