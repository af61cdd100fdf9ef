import type { PostgresCache } from "@layover/checkpoint-postgres";
import {
  type CronsApi,
  CronTick,
  type createMetrics,
  cronSchedulerId,
  type Db,
  type Dispatcher,
  type GraphInfo,
  knownRunConfig,
  type LayoverClient,
  listGraphs,
  type OutageGate,
  type Requeued,
  reconcileRuns,
  sweepExpiredInterrupts,
} from "@layover/runtime";
import { type Job, type Queue, WaitingError } from "bullmq";
import type { Logger } from "pino";
import { z } from "zod";

/** The scheduler's metrics: the runtime exports only the worker's type (Metrics). */
export type SchedulerMetrics = ReturnType<typeof createMetrics<"scheduler">>;

/** What the scheduler's jobs work with; createScheduler opens and closes all of it. */
export interface JobDeps {
  db: Db;
  dispatcher: Dispatcher;
  client: LayoverClient;
  crons: CronsApi;
  /** The scheduler's own queue: a tick of a deleted cron removes the cron's schedule from it. */
  queue: Queue;
  metrics: SchedulerMetrics;
  logger: Logger;
  outage: OutageGate;
  /** The SchedulerOptions the jobs read, documented there. */
  options: { sweepBatchSize?: number; reconcileMinAgeMs?: number; threadTtlMs?: number };
  /** The deployment's node cache: its expired entries are pruned. */
  cache: PostgresCache;
}

/** Reconciliation's work, at warn: a lost job is a Redis outage, a failed one a run stuck retrying. */
function logRequeued(logger: Logger, requeued: readonly Requeued[]): void {
  const failed = requeued.filter((step) => step.requeues !== undefined);
  const lost = requeued.length - failed.length;
  if (lost > 0) logger.warn({ requeued: lost }, "runs whose job was lost re-enqueued");
  for (const step of failed)
    logger.warn(
      {
        runId: step.runId,
        threadId: step.threadId,
        requeues: step.requeues,
        failedReason: step.failedReason,
      },
      "a run's job failed every attempt; enqueued again after a backoff",
    );
}

/** The graphs whose runs wait with no live worker to take them. */
export const unserved = (graphs: readonly GraphInfo[]) =>
  graphs.filter((g) => !g.served && g.runsWaiting > 0);

/**
 * Runs no worker will take, at warn with each reconciliation: a graph dropped from the workers'
 * module, or its workers all stopped. Their jobs wait in the queue and nothing else says why.
 */
async function warnUnserved(db: Db, logger: Logger): Promise<void> {
  let graphs: GraphInfo[];
  try {
    graphs = await listGraphs(db);
  } catch (error) {
    logger.warn({ err: error }, "could not check which graphs live workers serve");
    return;
  }
  for (const g of unserved(graphs))
    logger.warn(
      {
        graphId: g.graphId,
        runsWaiting: g.runsWaiting,
        oldestWaitingAt: g.oldestWaitingAt,
        lastServedAt: g.lastServedAt,
      },
      "runs wait for a graph no live worker serves: start a worker whose graph module has it (layover-admin graphs)",
    );
}

/** What a prune-threads tick carries: the TTL of the replica that set the schedule. */
const PruneTick = z.object({ ttlMs: z.number().int().positive() });

/** Threads a prune-threads tick deletes at most: a long backlog goes over several ticks. */
const PRUNE_THREADS_LIMIT = 10_000;

/** Enqueues again the runs whose job Redis lost; logged and counted. */
async function reconcile({ db, dispatcher, metrics, logger, options }: JobDeps): Promise<number> {
  const requeued = await reconcileRuns(db, dispatcher, { minAgeMs: options.reconcileMinAgeMs ?? 5_000 });
  metrics.reconciled.inc(requeued.length);
  logRequeued(logger, requeued);
  await warnUnserved(db, logger);
  return requeued.length;
}

/**
 * Runs a job; one that could not reach Postgres waits in the queue until it answers: a cron's
 * tick then starts its run late rather than never, as a tick that fell due while no scheduler ran.
 */
async function runJob(deps: JobDeps, job: Job, token?: string): Promise<unknown> {
  const startedAt = Date.now();
  try {
    return await handle(deps, job);
  } catch (error) {
    if (await deps.outage.holdIfDown(error, job, token, startedAt)) throw new WaitingError();
    throw error;
  }
}

/** The threads a sweep's log line names at most. */
const LOGGED_THREADS = 20;

async function handle(deps: JobDeps, job: Job): Promise<unknown> {
  const { db, dispatcher, metrics, logger, options } = deps;
  switch (job.name) {
    case "sweep": {
      // Which threads, for an operator to follow (the first of a large sweep: the log stays a line).
      const threadIds: string[] = [];
      const resumed = await sweepExpiredInterrupts(db, dispatcher, {
        batchSize: options.sweepBatchSize ?? 1_000,
        // Counted batch by batch: a batch recorded counts even if a later one fails.
        onResumed: (ids, interrupts) => {
          threadIds.push(...ids.slice(0, LOGGED_THREADS - threadIds.length));
          metrics.expired.inc(interrupts);
        },
      });
      if (resumed > 0)
        logger.info({ resumed, threadIds }, "expired interrupts resumed with their timeout value");
      return { resumed };
    }
    case "reconcile":
      return { requeued: await reconcile(deps) };
    case "cron":
      return startCronRun(deps, job);
    case "prune-threads":
      return pruneThreads(deps, job);
    case "prune-cache":
      return pruneCache(deps);
    default:
      logger.warn({ name: job.name }, "unknown scheduler job");
      return null;
  }
}

/**
 * Deletes the threads past the TTL the tick carries: the one of the replica that last set the
 * schedule, whichever replica takes the tick. A tick without one (from an older release) uses
 * this replica's, or prunes nothing.
 */
async function pruneThreads({ client, metrics, options }: JobDeps, job: Job): Promise<unknown> {
  const ttlMs = PruneTick.safeParse(job.data).data?.ttlMs ?? options.threadTtlMs;
  if (ttlMs === undefined) return null;
  const pruned = await client.threads.prune({
    olderThan: new Date(Date.now() - ttlMs),
    limit: PRUNE_THREADS_LIMIT,
  });
  metrics.threadsPruned.inc(pruned.threads);
  return pruned;
}

/** Expired node cache entries a prune-cache tick deletes at most: a long backlog goes over several ticks. */
const PRUNE_CACHE_LIMIT = 10_000;

/** Deletes expired node cache entries (the cache never returns them; this keeps its table small). */
async function pruneCache({ cache, logger }: JobDeps): Promise<unknown> {
  const pruned = await cache.pruneExpired({ limit: PRUNE_CACHE_LIMIT });
  if (pruned > 0) logger.info({ pruned }, "expired node cache entries deleted");
  return { pruned };
}

/**
 * The tick's run, started with its cron held against crons.delete (none once a delete returned)
 * and its other ticks. None when a tick started one since this one fell due: after an outage the
 * tick put back and the next one, both due, start one run between them, not one each.
 */
async function startCronRun({ client, crons, queue, logger }: JobDeps, job: Job): Promise<unknown> {
  const { cronId } = CronTick.parse(job.data);
  const dueAt = job.opts.prevMillis ?? job.timestamp;
  const tick = String(dueAt);
  const started = await crons.holding(cronId, async (cron, markStarted) => {
    if (cron === undefined) return "gone" as const;
    if (cron.last_started_at !== null && cron.last_started_at.getTime() >= dueAt) return "caught up" as const;
    if (await crons.hasWaitingRun(cron)) return "skipped" as const;
    const startedAt = new Date();
    const run = await client.runs.start({
      graphId: cron.graph_id,
      input: cron.input,
      ...(cron.config ? { config: knownRunConfig(cron.config) } : {}),
      threadId: cron.thread_id ?? `cron-${cron.id}-${tick}`,
      multitaskStrategy: "enqueue",
      idempotencyKey: `cron-${cron.id}-${tick}`,
    });
    await markStarted(startedAt);
    return run;
  });
  if (started === "gone") {
    // Deleted while the tick was queued, or its schedule outlived the delete (a restore racing
    // it): the schedule goes too, instead of ticking into nothing for ever.
    await queue.removeJobScheduler(cronSchedulerId(cronId));
    return null;
  }
  if (started === "skipped") {
    logger.info({ cronId }, "cron tick skipped: the run it queued on its thread has not begun");
    return null;
  }
  if (started === "caught up") {
    logger.info(
      { cronId, dueAt: new Date(dueAt) },
      "cron tick skipped: a later tick already started its run",
    );
    return null;
  }
  logger.info({ cronId, runId: started.runId, threadId: started.threadId }, "cron run started");
  return started;
}

/**
 * The scheduler's jobs over `deps`: `runJob`, the processor of its BullMQ worker (sweep,
 * reconciliation, cron ticks, thread pruning), and `reconcile`, which start() also runs once.
 */
export function schedulerJobs(deps: JobDeps) {
  return {
    runJob: (job: Job, token?: string) => runJob(deps, job, token),
    reconcile: () => reconcile(deps),
  };
}
