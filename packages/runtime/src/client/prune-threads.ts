// Retention of threads (a thread TTL): the threads nobody has touched since a date go with their
// runs, interrupts and checkpoints, each as threads.delete deletes it.
import { InvalidInputError } from "@layover/graph";
import { ThreadBusyError, ThreadNotFoundError } from "../errors.ts";
import type { ClientContext } from "./context.ts";
import { type DeleteCondition, deleteThreadIf } from "./delete-thread.ts";

/** The statuses of threads a prune may delete: finished, failed, or waiting for a person. */
const PRUNABLE = ["idle", "error", "interrupted"] as const;
type PrunableStatus = (typeof PRUNABLE)[number];

export interface PruneThreadsOptions {
  /** Threads untouched since before this date (no start, park, answer or end since). */
  olderThan: Date;
  /**
   * Which threads: "idle" (its last run finished), "error" (it failed), and, only when named,
   * "interrupted" (waiting for a person: their questions go unanswered for good).
   * @defaultValue ["idle", "error"]
   */
  statuses?: readonly PrunableStatus[];
  /** At most this many threads deleted per call. @defaultValue no limit */
  limit?: number;
}

export interface PrunedThreads {
  threads: number;
  runs: number;
  interrupts: number;
  checkpoints: number;
  /** Threads chosen but left as they were: in use once locked, or a cron's. */
  skipped: number;
}

/** Threads read per page of the walk. */
const PAGE = 500;

function checkOptions(options: PruneThreadsOptions): Required<Omit<PruneThreadsOptions, "limit">> {
  const { olderThan, statuses = ["idle", "error"], limit } = options ?? {};
  if (!(olderThan instanceof Date) || Number.isNaN(olderThan.getTime()))
    throw new InvalidInputError(
      `threads.prune: olderThan must be a valid Date (threads untouched since before it go); got ${String(olderThan)}.`,
    );
  if (!Array.isArray(statuses) || statuses.length === 0 || statuses.some((s) => !PRUNABLE.includes(s)))
    throw new InvalidInputError(
      `threads.prune: statuses must be a non-empty list of ${PRUNABLE.map((s) => `"${s}"`).join(", ")}; ` +
        `got ${JSON.stringify(statuses)}. A busy thread is never pruned.`,
    );
  if (limit !== undefined && !(Number.isSafeInteger(limit) && limit > 0))
    throw new InvalidInputError(`threads.prune: limit must be a whole number above 0; got ${String(limit)}.`);
  return { olderThan, statuses };
}

/**
 * Deletes the threads in `statuses` untouched since before `olderThan`, each with its runs,
 * interrupts and checkpoints in a transaction of its own (threads.delete). The threads are
 * walked in id order, a page at a time, once per call; each is checked again under its lock,
 * so one that a run touched since it was chosen, or that a cron uses, is left as it is.
 */
export async function pruneThreads(ctx: ClientContext, options: PruneThreadsOptions): Promise<PrunedThreads> {
  const { olderThan, statuses } = checkOptions(options);
  const limit = options.limit ?? Number.POSITIVE_INFINITY;
  const condition: DeleteCondition = { updatedBefore: olderThan, statuses };
  const total: PrunedThreads = { threads: 0, runs: 0, interrupts: 0, checkpoints: 0, skipped: 0 };
  let after = "";
  while (total.threads < limit) {
    const { rows } = await ctx.db.pool.query<{ id: string }>(
      `SELECT id FROM ${ctx.db.table("threads")}
        WHERE id > $1 AND updated_at < $2 AND status = ANY($3::text[]) ORDER BY id LIMIT $4`,
      [after, olderThan, statuses, PAGE],
    );
    for (const { id } of rows) {
      if (total.threads >= limit) break;
      const deleted = await deleteChosen(ctx, id, condition);
      if (deleted === undefined) total.skipped++;
      else if (deleted !== null) {
        total.threads++;
        total.runs += deleted.runs;
        total.interrupts += deleted.interrupts;
        total.checkpoints += deleted.checkpoints;
      }
    }
    if (rows.length < PAGE) break;
    after = (rows.at(-1) as { id: string }).id;
  }
  if (total.threads > 0 || total.skipped > 0)
    ctx.logger.info({ ...total, olderThan: olderThan.toISOString(), statuses }, "threads pruned");
  return total;
}

/** One chosen thread deleted; undefined if it was left (in use, changed); null if already gone. */
async function deleteChosen(ctx: ClientContext, threadId: string, condition: DeleteCondition) {
  try {
    return await deleteThreadIf(ctx, threadId, condition);
  } catch (error) {
    if (error instanceof ThreadBusyError) return undefined;
    if (error instanceof ThreadNotFoundError) return null;
    throw error;
  }
}
