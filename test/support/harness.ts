// A runtime under test: its own Postgres schema and Redis prefix, a producer client, and
// in-process workers (real BullMQ, real Postgres) or worker processes.
import { type ChildProcess, execFile, spawn } from "node:child_process";
import { once } from "node:events";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import type { IndexConfig } from "@layover/checkpoint";
import { createClient, type LayoverClient, type RunStreamPart, STEP_QUEUE } from "@layover/runtime";
import { createScheduler } from "@layover/scheduler";
import {
  createTestSchema,
  type Deployment,
  deleteRedisPrefix,
  getRedis,
  serviceEnv,
  uniqueRedisPrefix,
} from "@layover/testing";
import { createWorker } from "@layover/worker";
import { Queue } from "bullmq";
import { Redis } from "ioredis";
import pg from "pg";
import pino from "pino";
import { expect } from "vitest";
import { graphs } from "../fixtures/graphs.ts";

interface WorkerStartOptions {
  id?: string;
  budget?: { steps: number; ms: number };
  interruptTimeoutMs?: number;
  /** Entries added to the fixtures' graph module, for this worker alone. */
  graphs?: Record<string, unknown>;
  /** The index of the store its graphs get (semantic search). */
  storeIndex?: IndexConfig;
}

interface SchedulerStartOptions {
  id?: string;
  sweepEveryMs?: number;
  reconcileEveryMs?: number;
  threadTtlMs?: number;
  pruneCacheEveryMs?: number;
}

export interface Harness {
  /** Where this harness's services run: what a spawned service process is given. */
  deployment: Deployment;
  schema: string;
  prefix: string;
  databaseUrl: string;
  redisUrl: string;
  pool: pg.Pool;
  client: LayoverClient;
  queue: Queue;
  startWorker(options?: WorkerStartOptions): Promise<() => Promise<void>>;
  startScheduler(options?: SchedulerStartOptions): Promise<() => Promise<void>>;
  /**
   * A worker process (`env` over the deployment's: a DATABASE_URL through a proxy, a
   * METRICS_PORT); `metricsPort` is the port its "worker started" line names, when it serves one.
   */
  spawnWorker(
    id: string,
    env?: Record<string, string>,
    graphsModule?: string,
  ): Promise<ChildProcess & { metricsPort?: number }>;
  close(): Promise<void>;
}

const quiet = pino({ level: "silent" });
const CLI = fileURLToPath(new URL("../../services/worker/src/cli.ts", import.meta.url));
const GRAPHS = fileURLToPath(new URL("../fixtures/graphs.ts", import.meta.url));

const ADMIN = fileURLToPath(new URL("../../services/scheduler/src/admin-cli.ts", import.meta.url));

/** Runs layover-admin as a process against `h`'s deployment, `env` over it: its stdout and stderr. */
export function runAdmin(h: Harness, args: readonly string[], env: Record<string, string> = {}) {
  const deployment = {
    DATABASE_URL: h.databaseUrl,
    REDIS_URL: h.redisUrl,
    LAYOVER_SCHEMA: h.schema,
    LAYOVER_PREFIX: h.prefix,
  };
  return promisify(execFile)(process.execPath, [ADMIN, ...args], {
    env: { ...process.env, ...deployment, ...env },
  });
}

/** `service`'s close, run once however often it is called; listed in `stops` for the harness's close. */
function stopOnce(stops: Array<() => Promise<void>>, service: { close(): Promise<void> }) {
  let stopped = false;
  const stop = async () => {
    if (stopped) return;
    stopped = true;
    await service.close();
  };
  stops.push(stop);
  return stop;
}

/** An in-process worker of the fixture graphs on `deployment`, silent. */
function harnessWorker(deployment: Deployment, options: WorkerStartOptions) {
  return createWorker({
    graphs: { ...graphs, ...options.graphs },
    databaseUrl: deployment.databaseUrl,
    redisUrl: deployment.redisUrl,
    schema: deployment.schema,
    prefix: deployment.prefix,
    logger: quiet,
    concurrency: 8,
    ...(options.id ? { workerId: options.id } : {}),
    ...(options.budget ? { budget: options.budget } : {}),
    ...(options.interruptTimeoutMs ? { interruptTimeoutMs: options.interruptTimeoutMs } : {}),
    ...(options.storeIndex ? { storeIndex: options.storeIndex } : {}),
  });
}

/** An in-process scheduler on `deployment`, silent, sweeping and reconciling within a test's time. */
function harnessScheduler(deployment: Deployment, options: SchedulerStartOptions) {
  return createScheduler({
    databaseUrl: deployment.databaseUrl,
    redisUrl: deployment.redisUrl,
    schema: deployment.schema,
    prefix: deployment.prefix,
    logger: quiet,
    sweepEveryMs: options.sweepEveryMs ?? 200,
    reconcileEveryMs: options.reconcileEveryMs ?? 1_000,
    reconcileMinAgeMs: 500,
    ...(options.threadTtlMs ? { threadTtlMs: options.threadTtlMs, pruneThreadsEveryMs: 200 } : {}),
    ...(options.pruneCacheEveryMs ? { pruneCacheEveryMs: options.pruneCacheEveryMs } : {}),
    ...(options.id ? { schedulerId: options.id } : {}),
  });
}

/**
 * Harness.spawnWorker: a worker process on `deployment`, listed in `children` (for the harness's
 * close) before it has started.
 */
async function spawnWorkerProcess(
  deployment: Deployment,
  children: ChildProcess[],
  id: string,
  env: Record<string, string>,
  graphsModule = GRAPHS,
): Promise<ChildProcess & { metricsPort?: number }> {
  const child = spawn(process.execPath, [CLI, "--graphs", graphsModule], {
    env: serviceEnv(deployment, {
      WORKER_ID: id,
      LOG_LEVEL: "info",
      // Short locks: a SIGKILLed worker's jobs are recovered within seconds.
      LOCK_DURATION_MS: "2000",
      STALLED_INTERVAL_MS: "1000",
      ...env,
    }),
    stdio: ["ignore", "pipe", "inherit"],
  });
  children.push(child);
  const started = await waitForLine(child, "worker started");
  const port = (JSON.parse(started) as { metricsPort?: number }).metricsPort;
  return Object.assign(child, port === undefined ? {} : { metricsPort: port });
}

export async function createHarness(name: string): Promise<Harness> {
  const schema = await createTestSchema(name);
  const redisUrl = await getRedis();
  const prefix = uniqueRedisPrefix(name);
  const deployment = { databaseUrl: schema.url, redisUrl, schema: schema.name, prefix };
  const pool = new pg.Pool({ connectionString: schema.url, max: 20 });
  const client = createClient({
    databaseUrl: schema.url,
    redisUrl,
    schema: schema.name,
    prefix,
    logger: quiet,
  });
  const queue = new Queue(STEP_QUEUE, { connection: new Redis(redisUrl), prefix });
  const stops: Array<() => Promise<void>> = [];
  const children: ChildProcess[] = [];
  const harness: Harness = {
    deployment,
    schema: schema.name,
    prefix,
    databaseUrl: schema.url,
    redisUrl,
    pool,
    client,
    queue,
    async startWorker(options = {}) {
      const worker = harnessWorker(deployment, options);
      await worker.start();
      return stopOnce(stops, worker);
    },
    async startScheduler(options = {}) {
      const scheduler = harnessScheduler(deployment, options);
      await scheduler.start();
      return stopOnce(stops, scheduler);
    },
    spawnWorker: (id, env = {}, graphsModule = GRAPHS) =>
      spawnWorkerProcess(deployment, children, id, env, graphsModule),
    async close() {
      for (const child of children) if (child.exitCode === null) child.kill("SIGKILL");
      await Promise.all(stops.map((stop) => stop()));
      await client.close();
      await queue.close();
      await pool.end();
      await deleteRedisPrefix(redisUrl, prefix);
      await schema.drop();
    },
  };
  return harness;
}

/** The first line of `child`'s stdout that holds `text`. */
async function waitForLine(child: ChildProcess, text: string): Promise<string> {
  let buffer = "";
  const stdout = child.stdout as NodeJS.ReadableStream;
  return new Promise<string>((resolve, reject) => {
    const onData = (chunk: Buffer) => {
      buffer += chunk.toString();
      const line = buffer.split("\n").find((l) => l.includes(text) && l.endsWith("}"));
      if (line !== undefined) {
        stdout.off("data", onData);
        stdout.resume();
        resolve(line);
      }
    };
    stdout.on("data", onData);
    once(child, "exit").then(([code]) =>
      reject(new Error(`worker exited (${code}) before "${text}":\n${buffer}`)),
    );
  });
}

/**
 * Checkpoints that have more than one child: a superstep committed twice. Reads the
 * checkpointer's tables (checkpoint_heads maps thread and namespace to key_id).
 */
export async function checkpointForks(h: Harness, threadIds?: string[]): Promise<unknown[]> {
  const { rows } = await h.pool.query(
    `SELECT k.thread_id, c.parent_id FROM "${h.schema}".checkpoints c
       JOIN "${h.schema}".checkpoint_heads k USING (key_id)
      WHERE c.parent_id IS NOT NULL AND ($1::text[] IS NULL OR k.thread_id = ANY($1))
      GROUP BY k.thread_id, c.key_id, c.parent_id HAVING count(*) > 1`,
    [threadIds ?? null],
  );
  return rows;
}

/** Number of root-namespace checkpoints per thread. */
export async function checkpointCounts(h: Harness, threadIds: string[]): Promise<Map<string, number>> {
  const { rows } = await h.pool.query<{ thread_id: string; n: number }>(
    `SELECT k.thread_id, count(*)::int AS n FROM "${h.schema}".checkpoints c
       JOIN "${h.schema}".checkpoint_heads k USING (key_id)
      WHERE k.thread_id = ANY($1) AND k.ns = '' GROUP BY k.thread_id`,
    [threadIds],
  );
  return new Map(rows.map((r) => [r.thread_id, r.n]));
}

/** Runs by status, those matching `where` (SQL on the runs table's columns), read on the test's own pool. */
export async function runStatuses(h: Harness, where = "true"): Promise<Record<string, number>> {
  const { rows } = await h.pool.query<{ status: string; n: number }>(
    `SELECT status, count(*)::int AS n FROM "${h.schema}".runs WHERE ${where} GROUP BY status`,
  );
  return Object.fromEntries(rows.map((r) => [r.status, r.n]));
}

/** Step jobs BullMQ holds that are yet to end (waiting, running, delayed). */
export async function jobsInRedis(h: Harness): Promise<number> {
  const counts = await h.queue.getJobCounts(
    "waiting",
    "active",
    "delayed",
    "prioritized",
    "waiting-children",
  );
  return Object.values(counts).reduce((a, b) => a + b, 0);
}

/** Rows in one of the harness schema's runtime tables. */
export async function countRows(h: Harness, table: string): Promise<number> {
  const { rows } = await h.pool.query(`SELECT count(*)::int AS n FROM "${h.schema}".${table}`);
  return rows[0].n;
}

/** Every part of a runs.stream, to its end. */
export async function collectParts(parts: AsyncIterable<RunStreamPart>): Promise<RunStreamPart[]> {
  const all: RunStreamPart[] = [];
  for await (const part of parts) all.push(part);
  return all;
}

/** How many threads, runs and crons there are: what a refused call must leave as it was. */
export async function producerRows(h: Harness) {
  return {
    threads: await countRows(h, "threads"),
    runs: await countRows(h, "runs"),
    crons: await countRows(h, "crons"),
  };
}

/** Rows thread `threadId` still has in the runtime's and the checkpointer's tables. */
export async function threadRows(h: Harness, threadId: string) {
  const { rows } = await h.pool.query(
    `SELECT (SELECT count(*) FROM "${h.schema}".threads WHERE id = $1)::int AS threads,
            (SELECT count(*) FROM "${h.schema}".runs WHERE thread_id = $1)::int AS runs,
            (SELECT count(*) FROM "${h.schema}".interrupts WHERE thread_id = $1)::int AS interrupts,
            (SELECT count(*) FROM "${h.schema}".checkpoints c
               JOIN "${h.schema}".checkpoint_heads k USING (key_id) WHERE k.thread_id = $1)::int AS checkpoints`,
    [threadId],
  );
  return rows[0] as { threads: number; runs: number; interrupts: number; checkpoints: number };
}

/** A run of the approval graph (on `threadId`, else a new thread), started and parked at its question. */
export async function parkedApproval(h: Harness, item: string, twice = false, threadId?: string) {
  const started = await h.client.runs.start({
    graphId: "approval",
    input: { item, twice },
    ...(threadId === undefined ? {} : { threadId }),
  });
  const { runId } = started;
  const result = await h.client.runs.wait(runId, { timeoutMs: 20_000 });
  expect(result.status).toBe("interrupted");
  return { runId, threadId: started.threadId, result };
}

/** A slow-chain run, and a run queued behind it on its thread (multitaskStrategy "enqueue"). */
export async function runAndQueuedRun(h: Harness, firstDelayMs = 0) {
  const first = await h.client.runs.start({ graphId: "slow-chain", input: { delayMs: firstDelayMs } });
  const queued = await h.client.runs.start({
    graphId: "slow-chain",
    threadId: first.threadId,
    input: { delayMs: 0 },
    multitaskStrategy: "enqueue",
  });
  return { first, queued };
}

/** Another producer client on `h`'s deployment, with connections of its own (a second replica of an app), silent. */
export function anotherClient(h: Harness, options: { storeIndex?: IndexConfig } = {}): LayoverClient {
  return createClient({
    databaseUrl: h.databaseUrl,
    redisUrl: h.redisUrl,
    schema: h.schema,
    prefix: h.prefix,
    logger: quiet,
    ...options,
  });
}

/**
 * A second producer client on a pool of its own that counts the statements it sends (each still
 * goes to Postgres), its event subscription standing once it has waited for a run.
 */
export async function countingClient(h: Harness) {
  const pool = new pg.Pool({ connectionString: h.databaseUrl, max: 5 });
  let statements = 0;
  const query = pool.query.bind(pool) as (...args: unknown[]) => unknown;
  pool.query = ((...args: unknown[]) => {
    statements += 1;
    return query(...args);
  }) as typeof pool.query;
  const connection = new Redis(h.redisUrl);
  const client = createClient({ pool, connection, schema: h.schema, prefix: h.prefix, logger: quiet });
  const warm = await client.runs.start({ graphId: "slow-chain", input: { delayMs: 0 } });
  await client.runs.wait(warm.runId);
  return {
    client,
    pool,
    /** `work`'s result and the statements the client sent meanwhile. */
    async counted<T>(work: () => Promise<T>): Promise<{ result: T; statements: number }> {
      const before = statements;
      const result = await work();
      return { result, statements: statements - before };
    },
    async close() {
      await client.close();
      connection.disconnect();
      await pool.end();
    },
  };
}
