import { hostname } from "node:os";
import {
  CRON_SETTINGS,
  CronTick,
  connectPostgres,
  connectRedis,
  createClient,
  createDb,
  createDispatcher,
  createLogger,
  createMetrics,
  cronSchedulerId,
  cronsApi,
  type Db,
  type GraphInfo,
  isRedisConnectionError,
  LISTED,
  listGraphs,
  metricsPortOf,
  migrateRuntime,
  type PostgresTimeouts,
  postgresOutageGate,
  type Requeued,
  reconcileRuns,
  requireRedis,
  SCHEDULER_QUEUE,
  type ServiceState,
  STEP_QUEUE,
  serveMetrics,
  serviceProbes,
  sweepExpiredInterrupts,
  withMigrationPool,
} from "@layover/runtime";
import { type Job, Queue, WaitingError, Worker } from "bullmq";
import type { Logger } from "pino";
import { z } from "zod";

export interface SchedulerOptions {
  /** @defaultValue DEFAULT_DATABASE_URL (a local Postgres) */
  databaseUrl?: string;
  /** @defaultValue DEFAULT_REDIS_URL (a local Redis) */
  redisUrl?: string;
  /** How long start() waits for Redis to answer before it fails. @defaultValue 20000 */
  redisStartTimeoutMs?: number;
  /** @defaultValue "layover" */
  schema?: string;
  /** Postgres timeouts (see connectPostgres). */
  timeouts?: PostgresTimeouts;
  /** @defaultValue "layover" */
  prefix?: string;
  /** How often due interrupts are expired. @defaultValue 2000 */
  sweepEveryMs?: number;
  /** Threads claimed per sweep transaction. @defaultValue 1000 */
  sweepBatchSize?: number;
  /** How often runs whose job is missing are re-enqueued, and schedules Redis lost set again. @defaultValue 15000 */
  reconcileEveryMs?: number;
  /** A run untouched this long without a job is re-enqueued. @defaultValue 5000 */
  reconcileMinAgeMs?: number;
  /**
   * Threads finished or failed and untouched for this long are deleted, with their runs,
   * interrupts and checkpoints (client.threads.prune). The schedule carries it: whichever
   * replica takes a tick prunes with the TTL of the replica that started last; one started
   * without a TTL removes the schedule.
   * @defaultValue none: threads are kept
   */
  threadTtlMs?: number;
  /** How often threads past threadTtlMs are pruned, at most 10,000 a time. @defaultValue 3600000 */
  pruneThreadsEveryMs?: number;
  schedulerId?: string;
  /**
   * How long a scheduler job's lock lasts, and how often stalled ones are looked for: the sweep,
   * reconciliation or cron tick of a SIGKILLed replica moves on to another after them.
   * @defaultValue 30000 each
   */
  lockDurationMs?: number;
  stalledIntervalMs?: number;
  logger?: Logger;
  /**
   * Serve Prometheus metrics (`GET /metrics`) and the liveness and readiness probes (`GET
   * /livez`, `GET /readyz`) on this port. @defaultValue none
   */
  metricsPort?: number;
}

/**
 * The scheduler: BullMQ job schedulers fire the sweep, reconciliation and every cron tick;
 * each tick is one job, processed by one replica, so several replicas may run at once.
 */
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
const unserved = (graphs: readonly GraphInfo[]) => graphs.filter((g) => !g.served && g.runsWaiting > 0);

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

export function createScheduler(options: SchedulerOptions = {}) {
  const id = options.schedulerId ?? `${hostname()}-${process.pid}`;
  const logger = (
    options.logger ?? createLogger({ level: "info", logPayloads: false, name: "layover-scheduler" })
  ).child({ schedulerId: id });
  const prefix = options.prefix ?? "layover";
  const pool = connectPostgres(options.databaseUrl, 6, options.timeouts);
  const connection = connectRedis(options.redisUrl, logger, "scheduler");
  const db = createDb(pool, options.schema);
  const client = createClient({ pool, connection, schema: db.schema, prefix, logger, identity: "scheduler" });
  const crons = cronsApi(db, connection, prefix, logger);
  const queue = new Queue(SCHEDULER_QUEUE, { connection, prefix });
  // The connection's listener reports Redis errors once per outage (connectRedis); unheard,
  // BullMQ would print each reconnect attempt's stack.
  queue.on("error", () => {});
  let worker: Worker | undefined;
  let metricsServer: import("node:http").Server | undefined;
  let state: ServiceState = "starting";
  const metrics = createMetrics("scheduler");
  const steps = new Queue(STEP_QUEUE, { connection, prefix });
  steps.on("error", () => {});
  metrics.gauge("layover_interrupts_parked", "Interrupts waiting for an answer.", async () => {
    const { rows } = await pool.query(
      `SELECT count(*)::int AS n FROM ${db.table("interrupts")} WHERE ${LISTED} AND status = 'pending'`,
    );
    return rows[0].n as number;
  });
  metrics.gauge("layover_queue_depth", "Step jobs waiting, delayed or running.", async () => {
    const counts = await steps.getJobCounts("waiting", "active", "delayed", "prioritized");
    return Object.values(counts).reduce((a, b) => a + b, 0);
  });
  metrics.labelledGauge(
    "layover_runs_unserved",
    "Runs pending or running of a graph no live worker serves, by graph: they wait until one starts.",
    "graph_id",
    async () => new Map(unserved(await listGraphs(db)).map((g) => [g.graphId, g.runsWaiting])),
  );
  const dispatcher = createDispatcher(connection, prefix);
  // BullMQ does not close a connection it was given: close() disconnects it.
  const workerConnection = connectRedis(connection, logger, "scheduler jobs");
  const readiness = {
    state: () => state,
    probes: serviceProbes(pool, [connection, workerConnection], () => worker),
  };
  const outage = postgresOutageGate(pool, () => worker, logger);

  /** Enqueues again the runs whose job Redis lost; logged and counted. */
  async function reconcile(): Promise<number> {
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
  async function runJob(job: Job, token?: string): Promise<unknown> {
    const startedAt = Date.now();
    try {
      return await handle(job);
    } catch (error) {
      if (await outage.holdIfDown(error, job, token, startedAt)) throw new WaitingError();
      throw error;
    }
  }

  async function handle(job: Job): Promise<unknown> {
    switch (job.name) {
      case "sweep": {
        const resumed = await sweepExpiredInterrupts(db, dispatcher, {
          batchSize: options.sweepBatchSize ?? 1_000,
        });
        metrics.expired.inc(resumed);
        if (resumed > 0) logger.info({ resumed }, "expired interrupts resumed with their timeout value");
        return { resumed };
      }
      case "reconcile":
        return { requeued: await reconcile() };
      case "cron":
        return startCronRun(job);
      case "prune-threads":
        return pruneThreads(job);
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
  async function pruneThreads(job: Job): Promise<unknown> {
    const ttlMs = PruneTick.safeParse(job.data).data?.ttlMs ?? options.threadTtlMs;
    if (ttlMs === undefined) return null;
    const pruned = await client.threads.prune({
      olderThan: new Date(Date.now() - ttlMs),
      limit: PRUNE_THREADS_LIMIT,
    });
    metrics.threadsPruned.inc(pruned.threads);
    return pruned;
  }

  /** The tick's run, started with its cron held against crons.delete: none once a delete returned. */
  async function startCronRun(job: Job): Promise<unknown> {
    const { cronId } = CronTick.parse(job.data);
    const tick = String(job.opts.prevMillis ?? job.timestamp);
    const started = await crons.holding(cronId, async (cron) => {
      if (cron === undefined) return "gone" as const;
      if (await crons.hasWaitingRun(cron)) return "skipped" as const;
      return client.runs.start({
        graphId: cron.graph_id,
        input: cron.input,
        ...(cron.config ? { config: cron.config } : {}),
        threadId: cron.thread_id ?? `cron-${cron.id}-${tick}`,
        multitaskStrategy: "enqueue",
        idempotencyKey: `cron-${cron.id}-${tick}`,
      });
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
    logger.info({ cronId, runId: started.runId, threadId: started.threadId }, "cron run started");
    return started;
  }

  /** The sweep, reconciliation and pruning schedules, and every cron's from Postgres. */
  async function setSchedules(): Promise<void> {
    const every = (ms: number) => ({ every: ms });
    const opts = { removeOnComplete: true, removeOnFail: 100 };
    await queue.upsertJobScheduler("sweep", every(options.sweepEveryMs ?? 2_000), { name: "sweep", opts });
    await queue.upsertJobScheduler("reconcile", every(options.reconcileEveryMs ?? 15_000), {
      name: "reconcile",
      opts,
    });
    if (options.threadTtlMs === undefined) await queue.removeJobScheduler("prune-threads");
    else
      await queue.upsertJobScheduler("prune-threads", every(options.pruneThreadsEveryMs ?? 3_600_000), {
        name: "prune-threads",
        data: { ttlMs: options.threadTtlMs },
        opts,
      });
    await crons.restore((row, error) =>
      logger.error(
        { cronId: row.id, schedule: row.schedule, timezone: row.timezone, err: error },
        "a cron's schedule was refused: it does not tick; delete it and create it again",
      ),
    );
  }

  /**
   * Whether Redis holds fewer schedules than Postgres and this replica's options call for: the
   * sweep and reconciliation (with pruning if set) and one per cron. A deleted cron's schedule,
   * until its next tick removes it, can hide a missing one until then.
   */
  async function schedulesLost(): Promise<boolean> {
    if ((await queue.getJobScheduler("reconcile")) === undefined) return true;
    const [held, pruning, cronCount] = await Promise.all([
      queue.getJobSchedulersCount(),
      queue.getJobScheduler("prune-threads"),
      crons.count(),
    ]);
    return held < 2 + (pruning ? 1 : 0) + cronCount;
  }

  let watch: NodeJS.Timeout | undefined;
  /**
   * Redis can lose schedules while this runs: every one (FLUSHALL, a failover to an empty
   * replica), reconciliation's own with them, so no BullMQ job would ever notice; or a cron's
   * that crons.create never added (its process died between its insert and its upsert). A timer
   * of the process counts them and, short, sets them all again, crons from Postgres. One check at
   * a time: with Redis down it waits for Redis, not piling up.
   */
  function watchSchedules(): void {
    watch = setTimeout(async () => {
      try {
        if ((await schedulesLost()) && state !== "closing") {
          logger.warn("Redis lacks some of the scheduler's schedules: set again, crons from Postgres");
          await setSchedules();
        }
      } catch (error) {
        if (state !== "closing") logger.error({ err: error }, "could not check the scheduler's schedules");
      }
      if (state !== "closing") watchSchedules();
    }, options.reconcileEveryMs ?? 15_000);
    watch.unref();
  }

  return {
    id,
    client,
    async start(): Promise<void> {
      await requireRedis(connection, options.redisStartTimeoutMs);
      await withMigrationPool(options.databaseUrl, (admin) => migrateRuntime(admin, { schema: db.schema }));
      await setSchedules();
      // Reconcile once at start-up too: work lost while no scheduler ran is found at once.
      await reconcile();
      // Before taking jobs: a port that cannot be served fails the start.
      if (options.metricsPort !== undefined)
        metricsServer = await serveMetrics(metrics.registry, options.metricsPort, readiness);
      worker = new Worker(SCHEDULER_QUEUE, runJob, {
        connection: workerConnection,
        prefix,
        concurrency: 4,
        lockDuration: options.lockDurationMs ?? 30_000,
        stalledInterval: options.stalledIntervalMs ?? 30_000,
        settings: CRON_SETTINGS, // the worker schedules each tick's next
      });
      worker.on("error", (error) => {
        if (!isRedisConnectionError(error)) logger.error({ err: error }, "scheduler worker error");
      });
      worker.on("failed", (job, error) =>
        logger.error(
          { err: error, job: job?.name, data: job?.data, attempts: job?.attemptsMade },
          "scheduler job failed",
        ),
      );
      await worker.waitUntilReady();
      watchSchedules();
      if (state === "starting") state = "running";
      logger.info(metricsServer ? { metricsPort: metricsPortOf(metricsServer) } : {}, "scheduler started");
    },
    async close(): Promise<void> {
      state = "closing";
      clearTimeout(watch);
      outage.close();
      await worker?.close();
      metricsServer?.close();
      await steps.close();
      await queue.close();
      await crons.close();
      await dispatcher.close();
      await client.close();
      workerConnection.disconnect();
      connection.disconnect();
      await pool.end();
    },
  };
}
