// Retention of threads (a thread TTL): the threads nobody has touched since a date go with their
// runs, interrupts and checkpoints, each as threads.delete deletes it.
import { InvalidInputError } from "@layover/graph";
import { ThreadBusyError, ThreadNotFoundError } from "../errors.ts";
import { isStorableDate } from "../keys.ts";
import type { ClientContext } from "./context.ts";
import { type DeleteCondition, type DeletedThread, deleteThreadIf } from "./delete-thread.ts";

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
  /**
   * Delete nothing: `threads` counts the threads the prune would choose now (up to `limit`; a
   * thread in use when its turn came would be left), the other counts are 0.
   */
  dryRun?: boolean;
}

export const PRUNE_OPTIONS = [
  "olderThan",
  "statuses",
  "limit",
  "dryRun",
] as const satisfies readonly (keyof PruneThreadsOptions)[];

export interface PrunedThreads {
  threads: number;
  runs: number;
  interrupts: number;
  checkpoints: number;
  /** Threads chosen but left as they were: in use once locked, or a cron's. */
  skipped: number;
  /** Threads whose delete failed (logged at warn with the error); the prune went on past them. */
  failed: number;
}

/** Threads read per page of the walk. */
const PAGE = 1_000;
/** Deletes failing one after another: Postgres is failing, not a thread; the prune stops. */
const MAX_FAILURES_IN_A_ROW = 10;

function checkOptions(options: PruneThreadsOptions): Required<Omit<PruneThreadsOptions, "limit">> {
  const { olderThan, statuses = ["idle", "error"], limit } = options ?? {};
  if (!isStorableDate(olderThan))
    throw new InvalidInputError(
      `threads.prune: olderThan must be a valid Date from 4714 BC on (threads untouched since before it go); got ${String(olderThan)}.`,
    );
  if (!Array.isArray(statuses) || statuses.length === 0 || statuses.some((s) => !PRUNABLE.includes(s)))
    throw new InvalidInputError(
      `threads.prune: statuses must be a non-empty list of ${PRUNABLE.map((s) => `"${s}"`).join(", ")}; ` +
        `got ${JSON.stringify(statuses)}. A busy thread is never pruned.`,
    );
  if (limit !== undefined && !(Number.isSafeInteger(limit) && limit > 0))
    throw new InvalidInputError(`threads.prune: limit must be a whole number above 0; got ${String(limit)}.`);
  if (options.dryRun !== undefined && typeof options.dryRun !== "boolean")
    throw new InvalidInputError(
      `threads.prune: dryRun must be true or false; got ${String(options.dryRun)}.`,
    );
  return { olderThan, statuses, dryRun: options.dryRun === true };
}

/**
 * A page of the walk: the next PAGE threads in id order after `$1`, each with whether the prune
 * wants it: untouched since `$2`, in `$3`, and, unless `$4` (waiting threads are wanted), no
 * interrupt pending (an idle or failed thread may still wait for the rest of a partial resume).
 * The page is taken by the primary key alone and only then filtered: a filter in its own query
 * may be planned as a scan of every thread, on every page. Index: threads_pkey;
 * interrupts_thread_status per thread.
 */
function walkPageSql(ctx: ClientContext): string {
  return `
WITH page AS MATERIALIZED (
  SELECT id, status, updated_at FROM ${ctx.db.table("threads")} WHERE id > $1 ORDER BY id LIMIT ${PAGE})
SELECT p.id, (p.updated_at < $2 AND p.status = ANY($3::text[]) AND ($4 OR NOT EXISTS (
         SELECT 1 FROM ${ctx.db.table("interrupts")} i WHERE i.thread_id = p.id AND i.status = 'pending'))) AS wanted
  FROM page p ORDER BY p.id`;
}

/**
 * Deletes the threads in `statuses` untouched since before `olderThan`, each with its runs,
 * interrupts and checkpoints in a transaction of its own (threads.delete). The threads are
 * walked in id order, a page at a time, once per call; each is checked again under its lock,
 * so one that a run touched since it was chosen, one in use, or a cron's is left as it is. A
 * thread whose delete fails is logged and passed; ten failing in a row stop the prune.
 */
export async function pruneThreads(ctx: ClientContext, options: PruneThreadsOptions): Promise<PrunedThreads> {
  const { olderThan, statuses, dryRun } = checkOptions(options);
  const limit = options.limit ?? Number.POSITIVE_INFINITY;
  const condition: DeleteCondition = {
    updatedBefore: olderThan,
    statuses,
    waiting: statuses.includes("interrupted"),
  };
  const total: PrunedThreads = { threads: 0, runs: 0, interrupts: 0, checkpoints: 0, skipped: 0, failed: 0 };
  let failuresInARow = 0;
  const sql = walkPageSql(ctx);
  for (let after = ""; total.threads < limit; ) {
    const { rows } = await ctx.db.pool.query<{ id: string; wanted: boolean }>(sql, [
      after,
      olderThan,
      statuses,
      condition.waiting,
    ]);
    for (const { id } of rows.filter((row) => row.wanted)) {
      if (total.threads >= limit) break;
      if (dryRun) {
        total.threads++;
        continue;
      }
      const outcome = await deleteChosen(ctx, id, condition);
      failuresInARow = outcome === "failed" ? failuresInARow + 1 : 0;
      if (failuresInARow >= MAX_FAILURES_IN_A_ROW)
        throw new Error(
          `threads.prune: ${MAX_FAILURES_IN_A_ROW} deletes failed in a row; stopped (see the warnings).`,
        );
      count(total, outcome);
    }
    if (rows.length < PAGE) break;
    after = (rows.at(-1) as { id: string }).id;
  }
  if (!dryRun && (total.threads > 0 || total.skipped > 0 || total.failed > 0))
    ctx.logger.info({ ...total, olderThan: olderThan.toISOString(), statuses }, "threads pruned");
  return total;
}

type Outcome = DeletedThread | "skipped" | "gone" | "failed";

function count(total: PrunedThreads, outcome: Outcome): void {
  if (outcome === "skipped" || outcome === "failed") total[outcome]++;
  else if (outcome !== "gone") {
    total.threads++;
    total.runs += outcome.runs;
    total.interrupts += outcome.interrupts;
    total.checkpoints += outcome.checkpoints;
  }
}

/** One chosen thread deleted, or why not: left (in use, changed), already gone, or failed. */
async function deleteChosen(
  ctx: ClientContext,
  threadId: string,
  condition: DeleteCondition,
): Promise<Outcome> {
  try {
    return (await deleteThreadIf(ctx, threadId, condition)) ?? "skipped";
  } catch (error) {
    if (error instanceof ThreadBusyError) return "skipped";
    if (error instanceof ThreadNotFoundError) return "gone";
    ctx.logger.warn(
      { err: error, threadId },
      "threads.prune: a thread's delete failed; it is left, and the prune goes on",
    );
    return "failed";
  }
}
