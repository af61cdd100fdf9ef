import type { CronsApi } from "@layover/runtime";
import type { Queue } from "bullmq";
import type { Logger } from "pino";

/** What setting and watching the scheduler's schedules work with. */
export interface ScheduleDeps {
  /** The scheduler's own queue, whose job schedulers these are. */
  queue: Queue;
  crons: CronsApi;
  logger: Logger;
  /** The SchedulerOptions the schedules read, documented there. */
  options: {
    sweepEveryMs?: number;
    reconcileEveryMs?: number;
    threadTtlMs?: number;
    pruneThreadsEveryMs?: number;
    pruneCacheEveryMs?: number;
  };
  /**
   * The crons the last setting refused (rows BullMQ cannot schedule): said once then, and not
   * counted as schedules Redis lacks, which would set them all again at every check.
   */
  refused: Set<string>;
}

/** Each schedule this replica sets: its job scheduler, the variable that sets it, how often. */
function intervals(options: ScheduleDeps["options"]): Array<[id: string, variable: string, every: number]> {
  return [
    ["sweep", "SWEEP_EVERY_MS", options.sweepEveryMs ?? 2_000],
    ["reconcile", "RECONCILE_EVERY_MS", options.reconcileEveryMs ?? 15_000],
    ["prune-cache", "PRUNE_CACHE_EVERY_MS", options.pruneCacheEveryMs ?? 600_000],
    ...(options.threadTtlMs === undefined
      ? []
      : [
          ["prune-threads", "PRUNE_THREADS_EVERY_MS", options.pruneThreadsEveryMs ?? 3_600_000] as [
            string,
            string,
            number,
          ],
        ]),
  ];
}

/**
 * Warns where this replica's settings replace the schedules another replica set (every replica
 * shares them, and the last one started wins): a canary started without THREAD_TTL_MS stopped
 * the deployment's pruning, and a sweep interval changed for all, without a word.
 */
async function sayReplaced({ queue, logger, options }: ScheduleDeps): Promise<void> {
  const advice = "give every scheduler replica the same settings (the last one started wins)";
  const ids = ["sweep", "reconcile", "prune-cache", "prune-threads"];
  const read = await Promise.all(ids.map((id) => queue.getJobScheduler(id)));
  const held = new Map(ids.map((id, i) => [id, read[i]]));
  for (const [id, variable, every] of intervals(options)) {
    const was = held.get(id)?.every;
    if (was !== undefined && was !== every)
      logger.warn(
        { schedule: id, was, now: every },
        `${variable} here (${every} ms) replaces the ${was} ms another replica set: ${advice}`,
      );
  }
  const ttl = held.get("prune-threads")?.template?.data?.ttlMs as number | undefined;
  if (ttl !== undefined && ttl !== options.threadTtlMs)
    logger.warn(
      { schedule: "prune-threads", was: ttl, now: options.threadTtlMs ?? null },
      options.threadTtlMs === undefined
        ? `THREAD_TTL_MS is unset here: this replica stops the pruning of finished threads another replica set (TTL ${ttl} ms); ${advice}`
        : `THREAD_TTL_MS here (${options.threadTtlMs} ms) replaces the ${ttl} ms another replica set: ${advice}`,
    );
}

/** The sweep, reconciliation and pruning (threads, expired node cache entries) schedules, and every cron's from Postgres. */
export async function setSchedules(deps: ScheduleDeps): Promise<void> {
  const { queue, crons, logger, options, refused } = deps;
  await sayReplaced(deps);
  const opts = { removeOnComplete: true, removeOnFail: 100 };
  for (const [id, , every] of intervals(options))
    await queue.upsertJobScheduler(
      id,
      { every },
      { name: id, opts, ...(id === "prune-threads" ? { data: { ttlMs: options.threadTtlMs } } : {}) },
    );
  if (options.threadTtlMs === undefined) await queue.removeJobScheduler("prune-threads");
  const refusedNow = new Set<string>();
  await crons.restore((row, error) => {
    refusedNow.add(row.id);
    if (refused.has(row.id)) return;
    logger.error(
      { cronId: row.id, schedule: row.schedule, timezone: row.timezone, err: error },
      "a cron's schedule was refused: it does not tick; delete it and create it again",
    );
  });
  refused.clear();
  for (const id of refusedNow) refused.add(id);
}

/**
 * Whether Redis holds fewer schedules than Postgres and this replica's options call for: the
 * sweep, reconciliation and the cache's pruning (with the threads' if set) and one per cron but
 * those refused (when there are, Postgres lists the crons to count those still there). A deleted
 * cron's schedule, until its next tick removes it, can hide a missing one until then.
 */
async function schedulesLost({ queue, crons, refused }: ScheduleDeps): Promise<boolean> {
  if ((await queue.getJobScheduler("reconcile")) === undefined) return true;
  const [held, pruning, scheduled] = await Promise.all([
    queue.getJobSchedulersCount(),
    queue.getJobScheduler("prune-threads"),
    scheduledCrons(crons, refused),
  ]);
  return held < 3 + (pruning ? 1 : 0) + scheduled;
}

/**
 * How many crons Redis should hold a schedule of: all of them, but those refused that are still
 * there (one deleted since counts no more, else a schedule Redis lost would hide behind it).
 */
async function scheduledCrons(crons: CronsApi, refused: ReadonlySet<string>): Promise<number> {
  if (refused.size === 0) return crons.count();
  return (await crons.list()).filter((row) => !refused.has(row.id)).length;
}

/**
 * Redis can lose schedules while this runs: every one (FLUSHALL, a failover to an empty
 * replica), reconciliation's own with them, so no BullMQ job would ever notice; or a cron's
 * that crons.create never added (its process died between its insert and its upsert). A timer
 * of the process counts them and, short, sets them all again, crons from Postgres. One check at
 * a time: with Redis down it waits for Redis, not piling up.
 *
 * A check that fails (Redis or Postgres away) is logged once, and its recovery once, however
 * many intervals the outage lasts. start() arms the timer; stop() (the scheduler is closing)
 * clears it, and a check already running when it is called neither sets schedules, logs, nor
 * arms the timer again.
 */
export function watchSchedules(deps: ScheduleDeps): { start(): void; stop(): void } {
  let watch: NodeJS.Timeout | undefined;
  let closing = false;
  // Checks failed in a row: an outage is said when it begins and when it ends, not per interval.
  let failed = 0;
  function start(): void {
    watch = setTimeout(async () => {
      try {
        if ((await schedulesLost(deps)) && !closing) {
          deps.logger.warn("Redis lacks some of the scheduler's schedules: set again, crons from Postgres");
          await setSchedules(deps);
        }
        if (failed > 0 && !closing) deps.logger.info({ failed }, "checks the scheduler's schedules again");
        failed = 0;
      } catch (error) {
        failed += 1;
        if (failed === 1 && !closing)
          deps.logger.error(
            { err: error },
            "could not check the scheduler's schedules; said again once it can",
          );
      }
      if (!closing) start();
    }, deps.options.reconcileEveryMs ?? 15_000);
    watch.unref();
  }
  return {
    start,
    stop() {
      closing = true;
      clearTimeout(watch);
    },
  };
}
