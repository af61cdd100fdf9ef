import { hostname } from "node:os";
import { PostgresSaver } from "@layover/checkpoint-postgres";
import {
  connectPostgres,
  connectRedis,
  createDb,
  createDispatcher,
  createLogger,
  createMetrics,
  isRedisConnectionError,
  metricsPortOf,
  migrateRuntime,
  type OutageGate,
  type PostgresTimeouts,
  postgresOutageGate,
  requireRedis,
  type ServiceState,
  STEP_QUEUE,
  StepJob,
  serveMetrics,
  serviceProbes,
  stepJobId,
  withMigrationPool,
} from "@layover/runtime";
import { type Job, WaitingError, Worker } from "bullmq";
import type { Logger } from "pino";
import { watchCancels } from "./cancels.ts";
import type { WorkerContext } from "./context.ts";
import { type GraphEntry, servedGraphs } from "./graph-entries.ts";
import { graphRegistration } from "./registration.ts";

export type { GraphEntry } from "./graph-entries.ts";

import { GraphNotServedError, processStepJob } from "./process-job.ts";

export interface WorkerOptions {
  /** Graph id → compiled graph: what this worker serves (the idea of langgraph.json, as code). */
  graphs: Record<string, GraphEntry>;
  /** @defaultValue DEFAULT_DATABASE_URL (a local Postgres) */
  databaseUrl?: string;
  /** @defaultValue DEFAULT_REDIS_URL (a local Redis) */
  redisUrl?: string;
  /** How long start() waits for Redis to answer before it fails. @defaultValue 20000 */
  redisStartTimeoutMs?: number;
  /** @defaultValue "layover" */
  schema?: string;
  /** BullMQ key prefix. @defaultValue "layover" */
  prefix?: string;
  /** Postgres timeouts (a silent server fails a job, and BullMQ retries it). */
  timeouts?: PostgresTimeouts;
  /** Jobs processed at once. @defaultValue 8 */
  concurrency?: number;
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

/** Times per attempt a job a worker cannot run goes straight back to the queue before the attempt fails. */
const OFFERS = 5;

/**
 * Puts a job this worker cannot run back in the queue at once, for another worker: a failed
 * attempt's backoff mostly brings it back to this worker (the one that knows when it falls due),
 * while a job put back wakes the worker that has waited longest. After OFFERS the attempt fails
 * and backs off as before, so with no worker able to run it the job does not spin; each attempt
 * (one that came back here) is offered again, to workers started meanwhile.
 */
async function offerElsewhere(job: Job<StepJob>, token: string): Promise<boolean> {
  const offers = job.data.offers ?? 0;
  if (offers >= OFFERS * (job.attemptsMade + 1)) return false;
  await job.updateData({ ...job.data, offers: offers + 1 });
  await job.moveToWait(token);
  return true;
}

/**
 * BullMQ's processor of step jobs: advances the job's thread (processStepJob), counting the
 * result; a job this worker cannot run goes back to the queue for another (offerElsewhere), and
 * one that could not reach Postgres waits there until it answers (postgresOutageGate).
 */
function stepJobProcessor(ctx: WorkerContext, logger: Logger, outage: OutageGate) {
  return async (job: Job<StepJob>, token?: string) => {
    const startedAt = Date.now();
    const data = StepJob.parse(job.data);
    const log = logger.child({
      jobId: job.id ?? stepJobId(data),
      threadId: data.threadId,
      runId: data.runId,
    });
    // A job handed back on its last attempt would fail for good: that one settles its run.
    const last = job.attemptsMade + 1 >= (job.opts.attempts ?? 1);
    try {
      const result = await processStepJob(ctx, data, log, { last });
      ctx.metrics.jobs.inc({ result });
      return result;
    } catch (error) {
      if (error instanceof GraphNotServedError && token && (await offerElsewhere(job, token))) {
        ctx.metrics.jobs.inc({ result: "unserved" });
        log.info({ offers: (data.offers ?? 0) + 1 }, "job put back for a worker that can run it");
        throw new WaitingError();
      }
      if (await outage.holdIfDown(error, job, token, startedAt)) {
        ctx.metrics.jobs.inc({ result: "postgres_down" });
        throw new WaitingError();
      }
      throw error;
    }
  };
}

/** Creates a worker; `start()` migrates, registers the graphs and begins taking jobs. */
export function createWorker(options: WorkerOptions) {
  const workerId = options.workerId ?? `${hostname()}-${process.pid}`;
  const logger = (
    options.logger ?? createLogger({ level: "info", logPayloads: false, name: "layover-worker" })
  ).child({
    workerId,
  });
  const pool = connectPostgres(options.databaseUrl, (options.concurrency ?? 8) + 2, options.timeouts);
  const connection = connectRedis(options.redisUrl, logger, "worker");
  const db = createDb(pool, options.schema);
  const prefix = options.prefix ?? "layover";
  const saver = new PostgresSaver({ pool, schema: db.schema });
  const ctx: WorkerContext = {
    db,
    saver,
    dispatcher: createDispatcher(connection, prefix),
    graphs: servedGraphs(options.graphs, saver),
    workerId,
    logger,
    budget: options.budget ?? { steps: 16, ms: 250 },
    markRunningAfterMs: options.markRunningAfterMs ?? 50,
    defaultTimeoutMs: options.interruptTimeoutMs ?? null,
    metrics: createMetrics("worker"),
    cancels: watchCancels(connection, prefix, logger),
    eventResultBytes: options.eventResultBytes ?? DEFAULT_EVENT_RESULT_BYTES,
    superseded: new Set(),
    registerAgain: () => registration.again(),
  };
  ctx.metrics.gauge("layover_queue_depth", "Step jobs waiting, delayed or running.", async () => {
    const counts = await ctx.dispatcher.queue.getJobCounts("waiting", "active", "delayed", "prioritized");
    return Object.values(counts).reduce((a, b) => a + b, 0);
  });
  // BullMQ does not close a connection it was given: close() disconnects it.
  const workerConnection = connectRedis(connection, logger, "worker jobs");
  let worker: Worker<StepJob> | undefined;
  let metricsServer: import("node:http").Server | undefined;
  let state: ServiceState = "starting";
  const registration = graphRegistration(ctx, options.registerEveryMs ?? 30_000, logger);
  const outage = postgresOutageGate(pool, () => worker, logger);
  const readiness = {
    state: () => state,
    probes: serviceProbes(pool, [connection, workerConnection], () => worker),
  };

  async function start(): Promise<void> {
    await requireRedis(connection, options.redisStartTimeoutMs, logger);
    await withMigrationPool(options.databaseUrl, async (admin) => {
      await new PostgresSaver({ pool: admin, schema: db.schema }).setup();
      await migrateRuntime(admin, { schema: db.schema });
    });
    await ctx.cancels.start();
    await registration.register();
    registration.heartbeat();
    // Before taking jobs: a port that cannot be served fails the start, not a running worker.
    if (options.metricsPort !== undefined)
      metricsServer = await serveMetrics(ctx.metrics.registry, options.metricsPort, readiness);
    worker = new Worker<StepJob>(STEP_QUEUE, stepJobProcessor(ctx, logger, outage), {
      connection: workerConnection,
      prefix,
      concurrency: options.concurrency ?? 8,
      lockDuration: options.lockDurationMs ?? 30_000,
      stalledInterval: options.stalledIntervalMs ?? 30_000,
      maxStalledCount: 5,
    });
    worker.on("failed", (job, error) => {
      const where = { err: error, jobId: job?.id, threadId: job?.data.threadId, runId: job?.data.runId };
      const unserved = error instanceof GraphNotServedError;
      ctx.metrics.jobs.inc({ result: unserved ? "unserved" : "error" });
      if (unserved) logger.warn(where, "job handed back: graph or node not served here");
      else logger.error(where, "job failed");
    });
    worker.on("error", (error) => {
      if (!isRedisConnectionError(error)) logger.error({ err: error }, "worker error");
    });
    await worker.waitUntilReady();
    if (state === "starting") state = "running";
    logger.info(
      {
        graphs: [...ctx.graphs.keys()],
        concurrency: options.concurrency ?? 8,
        ...(metricsServer ? { metricsPort: metricsPortOf(metricsServer) } : {}),
      },
      "worker started",
    );
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
    workerConnection.disconnect();
    connection.disconnect();
    await pool.end();
    logger.info("worker stopped");
  }

  return { id: workerId, start, close, context: ctx };
}
