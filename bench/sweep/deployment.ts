// A Layover deployment of its own for the sweep benchmark: a fresh Postgres schema, a unique
// BullMQ prefix, worker processes serving ./graphs.ts and a producer client. `close()` removes
// all of it.
import { type ChildProcess, spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import {
  createClient,
  createDb,
  createDispatcher,
  type Db,
  type Dispatcher,
  type LayoverClient,
  RunEvent,
  runEventsChannel,
  STEP_QUEUE,
} from "@layover/runtime";
import {
  createTestSchema,
  deleteRedisPrefix,
  getRedis,
  serviceEnv,
  uniqueRedisPrefix,
} from "@layover/testing";
import { Queue } from "bullmq";
import { Redis } from "ioredis";
import pg from "pg";
import pino from "pino";
import { APP_NAMES, redisServerPid, withAppName } from "../support/cpu.ts";
import { stopWorkers, untilWorkersReady } from "../support/worker-processes.ts";

export interface Deployment {
  schema: string;
  /** The schema's connection string (without an application_name). */
  databaseUrl: string;
  /** "worker 1" … → the worker processes' pids, and the Redis server's: for CPU sampling. */
  workerPids: ReadonlyMap<string, number>;
  redisPid: number | undefined;
  prefix: string;
  pool: pg.Pool;
  db: Db;
  client: LayoverClient;
  /** What the sweep enqueues resumes with (the scheduler's dispatcher). */
  dispatcher: Dispatcher;
  /** Jobs waiting, active or delayed in BullMQ. */
  jobsInRedis(): Promise<number>;
  /** Stops (true) or restarts (false) the workers taking step jobs (BullMQ queue pause). */
  pauseWorkers(paused: boolean): Promise<void>;
  /**
   * Counts the workers' run events (Redis pub/sub, what `runs.wait` listens to) by status,
   * one per thread: waiting on them costs the database nothing.
   */
  watchRuns(): Promise<RunWatch>;
  close(): Promise<void>;
}

const CLI = fileURLToPath(new URL("./cli.ts", import.meta.resolve("@layover/worker")));
const GRAPHS = fileURLToPath(new URL("./graphs.ts", import.meta.url));

export interface RunWatch {
  /** Threads whose latest event has this status. */
  count(status: string): number;
  /** Forget every event so far. */
  reset(): void;
  close(): Promise<void>;
}

export async function startDeployment(
  settings: { workers: number; concurrency: number },
  log: (line: string) => void,
): Promise<Deployment> {
  const cleanups: Array<() => Promise<void>> = [];
  const cleanup = async () => {
    for (const step of cleanups.reverse()) await step().catch(() => {});
    cleanups.length = 0;
  };
  try {
    const schema = await createTestSchema("bench_sweep");
    cleanups.push(() => schema.drop());
    const redisUrl = await getRedis();
    const prefix = uniqueRedisPrefix("bench-sweep");
    cleanups.push(() => deleteRedisPrefix(redisUrl, prefix));
    const connection = new Redis(redisUrl, { maxRetriesPerRequest: null });
    cleanups.push(async () => connection.disconnect());
    const queue = new Queue(STEP_QUEUE, { connection, prefix });
    cleanups.push(() => queue.close());

    const children: ChildProcess[] = [];
    cleanups.push(() => stopWorkers(children));
    const workerPids = new Map<string, number>();
    for (let i = 1; i <= settings.workers; i++) {
      const child = spawn(process.execPath, [CLI, "--graphs", GRAPHS], {
        env: serviceEnv(
          { databaseUrl: withAppName(schema.url, APP_NAMES.worker), redisUrl, schema: schema.name, prefix },
          { WORKER_ID: `sweep-w${i}`, WORKER_CONCURRENCY: String(settings.concurrency), LOG_LEVEL: "warn" },
        ),
        // Warnings and errors of the workers show on this process's stderr.
        stdio: ["ignore", process.stderr, process.stderr],
      });
      children.push(child);
      if (child.pid !== undefined) workerPids.set(`worker ${i}`, child.pid);
    }
    await untilWorkersReady(queue, children, settings.workers);
    log(`${settings.workers} worker processes ready (schema ${schema.name}, prefix ${prefix})`);

    // The sweep's and the producer's statements: their backends count as "pg client".
    const pool = new pg.Pool({ connectionString: withAppName(schema.url, APP_NAMES.client), max: 12 });
    cleanups.push(() => pool.end());
    const client = createClient({
      pool,
      connection,
      schema: schema.name,
      prefix,
      logger: pino({ level: "silent" }),
    });
    cleanups.push(() => client.close());
    const dispatcher = createDispatcher(connection, prefix);
    cleanups.push(() => dispatcher.close());
    return {
      schema: schema.name,
      databaseUrl: schema.url,
      workerPids,
      redisPid: await redisServerPid(connection),
      prefix,
      pool,
      db: createDb(pool, schema.name),
      client,
      dispatcher,
      async jobsInRedis() {
        const counts = await queue.getJobCounts("waiting", "active", "delayed", "prioritized");
        return Object.values(counts).reduce((a, b) => a + b, 0);
      },
      async pauseWorkers(paused) {
        await (paused ? queue.pause() : queue.resume());
      },
      async watchRuns() {
        const subscriber = connection.duplicate();
        const latest = new Map<string, string>();
        const counts = new Map<string, number>();
        subscriber.on("message", (_channel: string, message: string) => {
          const event = RunEvent.parse(JSON.parse(message));
          const before = latest.get(event.threadId);
          if (before !== undefined) counts.set(before, (counts.get(before) ?? 0) - 1);
          latest.set(event.threadId, event.status);
          counts.set(event.status, (counts.get(event.status) ?? 0) + 1);
        });
        await subscriber.subscribe(runEventsChannel(prefix));
        return {
          count: (status) => counts.get(status) ?? 0,
          reset() {
            latest.clear();
            counts.clear();
          },
          async close() {
            subscriber.disconnect();
          },
        };
      },
      close: cleanup,
    };
  } catch (error) {
    await cleanup();
    throw error;
  }
}
