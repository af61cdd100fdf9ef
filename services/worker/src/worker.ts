import type { Server } from "node:http";
import { hostname } from "node:os";
import type { IndexConfig } from "@layover/checkpoint";
import { PostgresCache, PostgresSaver, PostgresStore } from "@layover/checkpoint-postgres";
import { MAX_DURATION_MS } from "@layover/graph";
import {
  checkPostgresLanes,
  checkSchemaName,
  checkServiceOptions,
  checkStoreIndex,
  checkTimeouts,
  connectPostgresPools,
  connectRedis,
  count,
  createDb,
  createDispatcher,
  createLogger,
  createMetrics,
  type Db,
  DEFAULT_POSTGRES_LANES,
  metricsPortOf,
  migrateRuntime,
  type OptionRules,
  PipelinedPool,
  type PostgresTimeouts,
  postgresOutageGate,
  rebaseFeed,
  requirePostgres,
  requireRedis,
  type ServiceState,
  type StepJob,
  serveMetrics,
  serviceProbes,
  startServing,
  timer,
  withMigrationPool,
} from "@layover/runtime";
import type { Worker } from "bullmq";
import type { Redis } from "ioredis";
import type { Logger } from "pino";
import { watchCancels } from "./cancels.ts";
import type { WorkerContext } from "./context.ts";
import { checkedEntries, type GraphEntry, servedGraphs } from "./graph-entries.ts";
import { JobLosses } from "./job-loss.ts";
import { PauseWatch } from "./pause-watch.ts";
import { graphRegistration } from "./registration.ts";
import { type StepWorkerSettings, stepWorker } from "./step-worker.ts";

export type { GraphEntry } from "./graph-entries.ts";

export interface WorkerOptions {
  /** Graph id → compiled graph: what this worker serves (the idea of langgraph.json, as code). */
  graphs: Record<string, GraphEntry>;
  /**
   * Semantic search in the long-term store the graphs get (`config.store`): LangGraph's
   * `{ dims, embeddings, fields }`, as langgraph.json's `store.index`. Give producers
   * (createClient's storeIndex) and every worker of a deployment the same one. @defaultValue none:
   * a search with a query is refused
   */
  storeIndex?: IndexConfig;
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
  /** BullMQ key prefix. @defaultValue "layover" */
  prefix?: string;
  /** Postgres timeouts (a silent server fails a job's statement; the job waits in the queue until Postgres answers). */
  timeouts?: PostgresTimeouts;
  /** Jobs processed at once. @defaultValue 8 */
  concurrency?: number;
  /**
   * Connections on which the jobs' statements (their reads, checkpoints and run transitions) go
   * out pipelined (see PipelinedPool): fewer Postgres backends woken per statement, less CPU in
   * Postgres. 0: each statement takes a connection of the pool (`concurrency` + 2) for itself.
   * Transactions, the long-term store's and the node cache's statements always do. Behind a
   * connection pooler such as PgBouncer, 0: it pools connections itself.
   * @defaultValue 2
   */
  postgresLanes?: number;
  /**
   * A job still busy after this long marks its run running (one extra commit); a job that ends
   * its run sooner records running and the result in one. @defaultValue 50
   */
  markRunningAfterMs?: number;
  /** In-process continuation budget. @defaultValue { steps: 16, ms: 250 } */
  budget?: { steps: number; ms: number };
  /** BullMQ lock; a crashed worker's jobs are recovered after it. @defaultValue 30000 */
  lockDurationMs?: number;
  /** @defaultValue 30000 */
  stalledIntervalMs?: number;
  /**
   * How often the worker says again which version of its graphs it serves. Producers check
   * inputs against the newest version a worker said so of within three times this: the old
   * version's, during a rollback, until the new version's workers have been gone that long.
   * @defaultValue 30000
   */
  registerEveryMs?: number;
  /** Global default interrupt timeout (ms). @defaultValue none: wait forever */
  interruptTimeoutMs?: number;
  /**
   * The most a run event carries of what a finished or parked run stored (its state and
   * pending interrupts, in bytes): a producer's wait that hears it answers without reading
   * Postgres. The state then travels over Redis pub/sub; 0 announces the status alone (waits
   * read Postgres). @defaultValue 65536
   */
  eventResultBytes?: number;
  /** @defaultValue `${hostname}-${pid}` */
  workerId?: string;
  /**
   * Serve Prometheus metrics (`GET /metrics`) and the liveness and readiness probes (`GET
   * /livez`, `GET /readyz`) on this port. @defaultValue none
   */
  metricsPort?: number;
  logger?: Logger;
}

/** Run events carry what a run stored up to this size (bytes). */
export const DEFAULT_EVENT_RESULT_BYTES = 65_536;

/** What the worker's context is built on: its id and logger, and the connections createWorker opened. */
interface WorkerConnections {
  workerId: string;
  logger: Logger;
  /** The jobs' statements: the saver's and the runtime's. */
  pool: Db["pool"];
  /** The long-term store's and the node cache's (a semantic search may take a while: it holds no lane). */
  storePool: Db["pool"];
  connection: Redis;
  /** BullMQ key prefix. */
  prefix: string;
}

/**
 * The context the worker's jobs run with: its graphs bound to a saver on `pool`, its dispatcher
 * and cancel watch on `connection`, its metrics with the queue-depth gauge. `registerAgain`
 * registers the worker's graphs again (graphRegistration, which is made from this context).
 */
function workerContext(
  options: WorkerOptions,
  { workerId, logger, pool, storePool, connection, prefix }: WorkerConnections,
  registerAgain: () => Promise<void>,
): WorkerContext {
  const db = createDb(pool, options.schema);
  const saver = new PostgresSaver({ pool, schema: db.schema });
  const store = new PostgresStore({ pool: storePool, schema: db.schema, index: options.storeIndex });
  const cache = new PostgresCache({ pool: storePool, schema: db.schema });
  const ctx: WorkerContext = {
    db,
    saver,
    dispatcher: createDispatcher(connection, prefix),
    graphs: servedGraphs(options.graphs, saver, store, cache, (err, graphId) =>
      logger.warn({ err, graphId }, "the node cache failed: the run goes on without it"),
    ),
    workerId,
    logger,
    budget: options.budget ?? { steps: 16, ms: 250 },
    markRunningAfterMs: options.markRunningAfterMs ?? 50,
    defaultTimeoutMs: options.interruptTimeoutMs ?? null,
    metrics: createMetrics("worker"),
    cancels: watchCancels(connection, prefix, logger),
    eventResultBytes: options.eventResultBytes ?? DEFAULT_EVENT_RESULT_BYTES,
    superseded: new Set(),
    registerAgain,
    // Half the lock duration: BullMQ renews a job's lock that often, so standing still longer may lapse it.
    pauses: new PauseWatch(stepWorkerSettings(options).lockDurationMs / 2),
    losses: new JobLosses(),
  };
  ctx.metrics.gauge("layover_queue_depth", "Step jobs waiting, delayed or running.", async () => {
    const counts = await ctx.dispatcher.queue.getJobCounts("waiting", "active", "delayed", "prioritized");
    return Object.values(counts).reduce((a, b) => a + b, 0);
  });
  if (pool instanceof PipelinedPool) laneMetrics(ctx.metrics, pool);
  return ctx;
}

/** What the jobs' pipelined pool shows: its lanes, and the statements that found none free. */
function laneMetrics(metrics: WorkerContext["metrics"], pool: PipelinedPool): void {
  metrics.gauge(
    "layover_postgres_lanes",
    "Connections the jobs' statements go out pipelined on now.",
    async () => pool.laneConnections,
  );
  metrics.counter(
    "layover_postgres_lane_spills_total",
    "Statements that took a pooled connection because every lane was stalled (its first statement waiting on a lock or slow) or full.",
    () => pool.spilled,
  );
}

/** How the worker's BullMQ Worker takes jobs: the options' defaults applied. */
function stepWorkerSettings(options: WorkerOptions): StepWorkerSettings {
  return {
    prefix: options.prefix ?? "layover",
    concurrency: options.concurrency ?? 8,
    lockDurationMs: options.lockDurationMs ?? 30_000,
    stalledIntervalMs: options.stalledIntervalMs ?? 30_000,
  };
}

/** Creates the checkpointer's tables and the runtime's in `schema`, on a pool of their own. */
async function migrate(databaseUrl: string | undefined, schema: string): Promise<void> {
  await withMigrationPool(databaseUrl, async (admin) => {
    await new PostgresSaver({ pool: admin, schema }).setup();
    await migrateRuntime(admin, { schema });
  });
}

/** createWorker's options: each number's range (as the environment's, with tests' shorter locks), the ids, every key. */
const WORKER_OPTIONS: OptionRules = {
  numbers: {
    redisStartTimeoutMs: timer(1),
    postgresStartTimeoutMs: timer(1),
    concurrency: count(1, 1_000),
    markRunningAfterMs: timer(0),
    lockDurationMs: timer(1),
    stalledIntervalMs: timer(1),
    registerEveryMs: timer(1),
    interruptTimeoutMs: { ...count(1, MAX_DURATION_MS), unit: "milliseconds" },
    eventResultBytes: count(0, 64 * 1024 * 1024),
    metricsPort: count(0, 65_535),
  },
  ids: ["workerId"],
  prefix: true,
  keys: [
    "graphs",
    "storeIndex",
    "databaseUrl",
    "redisUrl",
    "redisStartTimeoutMs",
    "postgresStartTimeoutMs",
    "schema",
    "prefix",
    "timeouts",
    "concurrency",
    "postgresLanes",
    "markRunningAfterMs",
    "budget",
    "lockDurationMs",
    "stalledIntervalMs",
    "registerEveryMs",
    "interruptTimeoutMs",
    "eventResultBytes",
    "workerId",
    "metricsPort",
    "logger",
  ] satisfies (keyof WorkerOptions)[],
};

const BUDGET: OptionRules = {
  numbers: { steps: count(1), ms: timer(1) },
  ids: [],
  keys: ["steps", "ms"],
  required: ["steps", "ms"],
};

/** Refuses options the worker could not run with, before any connection opens: nothing is left open. */
function checkWorkerOptions(options: WorkerOptions): void {
  checkServiceOptions("createWorker", options, WORKER_OPTIONS);
  if (options.budget !== undefined) checkServiceOptions("createWorker's budget", options.budget, BUDGET);
  checkTimeouts("createWorker", options.timeouts);
  checkSchemaName(options.schema ?? "layover");
  checkStoreIndex("createWorker", options.storeIndex);
  checkPostgresLanes("createWorker", options.postgresLanes);
  checkedEntries(options.graphs);
}

/** Creates a worker; `start()` migrates, registers the graphs and begins taking jobs. */
export function createWorker(options: WorkerOptions) {
  checkWorkerOptions(options);
  const workerId = options.workerId ?? `${hostname()}-${process.pid}`;
  const logger = (
    options.logger ?? createLogger({ level: "info", logPayloads: false, name: "layover-worker" })
  ).child({ workerId });
  const settings = stepWorkerSettings(options);
  const { prefix, concurrency } = settings;
  const pools = connectPostgresPools(
    options.databaseUrl,
    concurrency + 2,
    options.timeouts,
    options.postgresLanes ?? DEFAULT_POSTGRES_LANES,
  );
  const { pool, storePool } = pools;
  const connection = connectRedis(options.redisUrl, logger, "worker");
  const opened = { workerId, logger, pool, storePool, connection, prefix };
  const ctx = workerContext(options, opened, () => registration.again());
  // BullMQ does not close a connection it was given: close() disconnects it.
  const workerConnection = connectRedis(connection, logger, "worker jobs");
  let worker: Worker<StepJob> | undefined;
  let metricsServer: Server | undefined;
  let state: ServiceState = "starting";
  const registration = graphRegistration(ctx, options.registerEveryMs ?? 30_000, logger);
  const outage = postgresOutageGate(pool, () => worker, logger);
  const readiness = {
    state: () => state,
    probes: serviceProbes(
      pool,
      [connection, workerConnection],
      `${prefix}:readyz:worker:${workerId}`,
      () => worker,
    ),
  };

  async function start(): Promise<void> {
    if (worker !== undefined) return; // started
    await requireRedis(connection, options.redisStartTimeoutMs, logger);
    await requirePostgres(options.databaseUrl, options.postgresStartTimeoutMs, logger);
    await migrate(options.databaseUrl, ctx.db.schema);
    await rebaseFeed(ctx.db, logger);
    await ctx.cancels.start();
    // Before registering and taking jobs: a port that cannot be served fails the start before
    // producers check inputs against a version no worker will serve.
    const serve = (port: number) => serveMetrics(ctx.metrics.registry, port, readiness);
    metricsServer = await startServing(options.metricsPort, serve, async () => {
      await registration.register();
      registration.heartbeat();
      worker = stepWorker(ctx, outage, workerConnection, settings);
      await worker.waitUntilReady();
    });
    if (state === "starting") state = "running";
    const metricsPort = metricsServer ? { metricsPort: metricsPortOf(metricsServer) } : {};
    logger.info({ graphs: [...ctx.graphs.keys()], concurrency, ...metricsPort }, "worker started");
  }

  /** Stops taking jobs, lets running ones finish, closes connections. */
  async function close(): Promise<void> {
    state = "closing";
    outage.close();
    await registration.close();
    await worker?.close();
    metricsServer?.close();
    await ctx.dispatcher.close();
    ctx.cancels.close();
    ctx.pauses.stop();
    workerConnection.disconnect();
    connection.disconnect();
    await pools.end();
    logger.info("worker stopped");
  }

  return { id: workerId, start, close, context: ctx };
}
