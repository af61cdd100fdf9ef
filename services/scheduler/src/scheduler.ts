import { hostname } from "node:os";
import { PostgresCache } from "@layover/checkpoint-postgres";
import {
  CRON_SETTINGS,
  checkSchemaName,
  checkServiceOptions,
  checkTimeouts,
  connectPostgres,
  connectRedis,
  count,
  createClient,
  createDb,
  createDispatcher,
  createLogger,
  createMetrics,
  cronsApi,
  LISTED,
  listGraphs,
  logWorkerErrors,
  metricsPortOf,
  migrateRuntime,
  type OptionRules,
  type PostgresTimeouts,
  postgresOutageGate,
  rebaseFeed,
  requirePostgres,
  requireRedis,
  SCHEDULER_QUEUE,
  type ServiceState,
  STEP_QUEUE,
  serveMetrics,
  serviceProbes,
  startServing,
  timer,
  withMigrationPool,
} from "@layover/runtime";
import { type Job, Queue, Worker } from "bullmq";
import type { Logger } from "pino";
import { MAX_THREAD_TTL_MS } from "./config.ts";
import { type SchedulerMetrics, schedulerJobs, unserved } from "./jobs.ts";
import { setSchedules, watchSchedules } from "./schedules.ts";

export interface SchedulerOptions {
  /** @defaultValue DEFAULT_DATABASE_URL (a local Postgres) */
  databaseUrl?: string;
  /** @defaultValue DEFAULT_REDIS_URL (a local Redis) */
  redisUrl?: string;
  /** How long start() waits for Redis to answer before it fails. @defaultValue 20000 */
  redisStartTimeoutMs?: number;
  /** How long start() waits for Postgres to accept a connection before it fails. @defaultValue 20000 */
  postgresStartTimeoutMs?: number;
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
  /** How often expired node cache entries are deleted, at most 10,000 a time. @defaultValue 600000 */
  pruneCacheEveryMs?: number;
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

/** The runtime's tables and the checkpointer's (the node cache it prunes is among them), on a pool of their own. */
async function migrate(databaseUrl: string | undefined, schema: string): Promise<void> {
  await withMigrationPool(databaseUrl, async (admin) => {
    await migrateRuntime(admin, { schema });
    await new PostgresCache({ pool: admin, schema }).setup();
  });
}

/** The scheduler's connections, and the clients and queues over them. */
function connect(options: SchedulerOptions, logger: Logger, prefix: string) {
  // A plain pool, not a PipelinedPool: a cron's tick holds its row in a transaction while it asks
  // the pool (crons.hasWaitingRun), which a lane could send behind a statement waiting on that row.
  const pool = connectPostgres(options.databaseUrl, 6, options.timeouts);
  const connection = connectRedis(options.redisUrl, logger, "scheduler");
  const db = createDb(pool, options.schema);
  const client = createClient({ pool, connection, schema: db.schema, prefix, logger, identity: "scheduler" });
  const crons = cronsApi(db, connection, prefix, logger);
  const queue = new Queue(SCHEDULER_QUEUE, { connection, prefix });
  // The connection's listener reports Redis errors once per outage (connectRedis); unheard,
  // BullMQ would print each reconnect attempt's stack.
  queue.on("error", () => {});
  const steps = new Queue(STEP_QUEUE, { connection, prefix });
  steps.on("error", () => {});
  const dispatcher = createDispatcher(connection, prefix);
  // BullMQ does not close a connection it was given: close() disconnects it.
  const workerConnection = connectRedis(connection, logger, "scheduler jobs");
  return { pool, connection, db, client, crons, queue, steps, dispatcher, workerConnection };
}

type Connections = ReturnType<typeof connect>;

/** Closes what connect() opened, the queues and clients before the connections under them. */
async function disconnect(c: Connections): Promise<void> {
  await c.steps.close();
  await c.queue.close();
  await c.crons.close();
  await c.dispatcher.close();
  await c.client.close();
  c.workerConnection.disconnect();
  c.connection.disconnect();
  await c.pool.end();
}

/** The gauges read when /metrics is scraped: parked interrupts, step jobs, unserved runs. */
function addGauges(metrics: SchedulerMetrics, { pool, db, steps }: Connections): void {
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
}

/** The BullMQ worker that takes the scheduler's jobs, with its errors and failed jobs logged. */
function jobWorker(
  runJob: (job: Job, token?: string) => Promise<unknown>,
  connection: Connections["workerConnection"],
  prefix: string,
  options: SchedulerOptions,
  logger: Logger,
): Worker {
  const worker = new Worker(SCHEDULER_QUEUE, runJob, {
    connection,
    prefix,
    concurrency: 4,
    lockDuration: options.lockDurationMs ?? 30_000,
    stalledInterval: options.stalledIntervalMs ?? 30_000,
    settings: CRON_SETTINGS, // the worker schedules each tick's next
  });
  logWorkerErrors(worker, logger, "scheduler worker error");
  worker.on("failed", (job, error) =>
    logger.error(
      { err: error, job: job?.name, data: job?.data, attempts: job?.attemptsMade },
      "scheduler job failed",
    ),
  );
  return worker;
}

/**
 * createScheduler's options: each number's range, the ids, every key. A thread TTL of 0 would
 * prune every finished thread at once (0 is not "off": leave it out), one over a century gives
 * no date to prune before.
 */
const SCHEDULER_OPTIONS: OptionRules = {
  numbers: {
    redisStartTimeoutMs: timer(1),
    postgresStartTimeoutMs: timer(1),
    sweepEveryMs: timer(1),
    sweepBatchSize: count(1),
    reconcileEveryMs: timer(1),
    reconcileMinAgeMs: timer(0),
    threadTtlMs: { ...count(1, MAX_THREAD_TTL_MS), unit: "milliseconds (leave it out to keep threads)" },
    pruneThreadsEveryMs: timer(1),
    pruneCacheEveryMs: timer(1),
    lockDurationMs: timer(1),
    stalledIntervalMs: timer(1),
    metricsPort: count(0, 65_535),
  },
  ids: ["schedulerId"],
  prefix: true,
  keys: [
    "databaseUrl",
    "redisUrl",
    "redisStartTimeoutMs",
    "postgresStartTimeoutMs",
    "schema",
    "timeouts",
    "prefix",
    "sweepEveryMs",
    "sweepBatchSize",
    "reconcileEveryMs",
    "reconcileMinAgeMs",
    "threadTtlMs",
    "pruneThreadsEveryMs",
    "pruneCacheEveryMs",
    "schedulerId",
    "lockDurationMs",
    "stalledIntervalMs",
    "logger",
    "metricsPort",
  ] satisfies (keyof SchedulerOptions)[],
};

function checkSchedulerOptions(options: SchedulerOptions): void {
  checkServiceOptions("createScheduler", options, SCHEDULER_OPTIONS);
  checkTimeouts("createScheduler", options.timeouts);
  checkSchemaName(options.schema ?? "layover");
}

/**
 * The scheduler: BullMQ job schedulers fire the sweep, reconciliation and every cron tick;
 * each tick is one job, processed by one replica, so several replicas may run at once.
 */
export function createScheduler(options: SchedulerOptions = {}) {
  checkSchedulerOptions(options); // before any connection opens: nothing is left open
  const id = options.schedulerId ?? `${hostname()}-${process.pid}`;
  const logger = (
    options.logger ?? createLogger({ level: "info", logPayloads: false, name: "layover-scheduler" })
  ).child({ schedulerId: id });
  const prefix = options.prefix ?? "layover";
  const connections = connect(options, logger, prefix);
  const { pool, connection, db, client, crons, queue, dispatcher, workerConnection } = connections;
  let worker: Worker | undefined;
  let metricsServer: import("node:http").Server | undefined;
  let state: ServiceState = "starting";
  const metrics = createMetrics("scheduler");
  addGauges(metrics, connections);
  const readiness = {
    state: () => state,
    probes: serviceProbes(
      pool,
      [connection, workerConnection],
      `${prefix}:readyz:scheduler:${id}`,
      () => worker,
    ),
  };
  const outage = postgresOutageGate(pool, () => worker, logger);
  const cache = new PostgresCache({ pool, schema: db.schema });
  const jobs = schedulerJobs({
    db,
    dispatcher,
    client,
    crons,
    queue,
    metrics,
    logger,
    outage,
    options,
    cache,
  });
  const schedules = { queue, crons, logger, options, refused: new Set<string>() };
  const watch = watchSchedules(schedules);

  return {
    id,
    client,
    async start(): Promise<void> {
      if (worker !== undefined) return; // started
      await requireRedis(connection, options.redisStartTimeoutMs, logger);
      await requirePostgres(options.databaseUrl, options.postgresStartTimeoutMs, logger);
      await migrate(options.databaseUrl, db.schema);
      await rebaseFeed(db, logger);
      // Before setting schedules and taking jobs: a port that cannot be served fails the start.
      const serve = (port: number) => serveMetrics(metrics.registry, port, readiness);
      metricsServer = await startServing(options.metricsPort, serve, async () => {
        await setSchedules(schedules);
        // Reconcile once at start-up too: work lost while no scheduler ran is found at once.
        await jobs.reconcile();
        worker = jobWorker(jobs.runJob, workerConnection, prefix, options, logger);
        await worker.waitUntilReady();
      });
      watch.start();
      if (state === "starting") state = "running";
      logger.info(metricsServer ? { metricsPort: metricsPortOf(metricsServer) } : {}, "scheduler started");
    },
    async close(): Promise<void> {
      state = "closing";
      watch.stop();
      outage.close();
      await worker?.close();
      metricsServer?.close();
      await disconnect(connections);
      logger.info("scheduler stopped");
    },
  };
}
