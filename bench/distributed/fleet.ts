// A Layover deployment of its own for one benchmark run: a fresh Postgres schema, a unique
// BullMQ prefix, worker processes and a producer client. `close()` removes all of it.

import { type ChildProcess, spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import type { Durability } from "@layover/graph";
import { type LayoverClient, STEP_QUEUE } from "@layover/runtime";
import {
  createTestSchema,
  deleteRedisPrefix,
  getRedis,
  serviceEnv,
  type TestSchema,
  uniqueRedisPrefix,
} from "@layover/testing";
import { Queue } from "bullmq";
import { Redis } from "ioredis";
import { benchClient } from "../support/client.ts";
import { APP_NAMES, redisServerPid, withAppName } from "../support/cpu.ts";
import { stopWorkers, untilWorkersReady } from "../support/worker-processes.ts";

export interface WorkerSettings {
  /** Worker processes. */
  workers: number;
  /** WORKER_CONCURRENCY: jobs each worker runs at once. */
  concurrency: number;
  /** STEP_BUDGET_STEPS: supersteps a job may run in-process before handing the thread back. */
  budgetSteps: number;
  /** STEP_BUDGET_MS. */
  budgetMs: number;
  /** Producer client's Postgres pool size. */
  clientPool: number;
  /** The runs' durability (LangGraph's option): the graphs' default in the worker module. */
  durability: Durability;
  /** Directory for the workers' `--cpu-prof` profiles, when profiling. */
  cpuProfDir?: string;
}

export interface Fleet {
  schema: string;
  prefix: string;
  databaseUrl: string;
  client: LayoverClient;
  queue: Queue;
  /** Worker id → process id. */
  workerPids: Map<string, number>;
  /** The Redis server's process id, as it reports it (meaningful when it runs on this machine). */
  redisPid: number | undefined;
  /** Jobs waiting, active or delayed in BullMQ. */
  jobsInRedis(): Promise<number>;
  close(): Promise<void>;
}

const CLI = fileURLToPath(new URL("./cli.ts", import.meta.resolve("@layover/worker")));
const GRAPHS = fileURLToPath(new URL("./worker-graphs.ts", import.meta.url));

/** Starts the deployment; resolves once every worker is connected to the queue. */
export async function startFleet(settings: WorkerSettings, log: (line: string) => void): Promise<Fleet> {
  const cleanups: Array<() => Promise<void>> = [];
  // Once, in reverse order; a second call waits for the first.
  let closing: Promise<void> | undefined;
  const cleanup = () =>
    (closing ??= (async () => {
      for (const step of cleanups.splice(0).reverse()) await step().catch(() => {});
    })());
  try {
    const schema: TestSchema = await createTestSchema("bench_layover");
    cleanups.push(() => schema.drop());
    const redisUrl = await getRedis();
    const prefix = uniqueRedisPrefix("bench");
    cleanups.push(async () => {
      await deleteRedisPrefix(redisUrl, prefix);
    });
    const queueConnection = new Redis(redisUrl, { maxRetriesPerRequest: null });
    const queue = new Queue(STEP_QUEUE, { connection: queueConnection, prefix });
    cleanups.push(async () => {
      await queue.close();
      queueConnection.disconnect();
    });

    const children: ChildProcess[] = [];
    const workerPids = new Map<string, number>();
    cleanups.push(() => stopWorkers(children));
    // Should this process die without cleaning up, the workers die with it.
    const killWorkers = () => {
      for (const child of children)
        if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
    };
    process.once("exit", killWorkers);
    cleanups.push(async () => {
      process.off("exit", killWorkers);
    });
    for (let i = 1; i <= settings.workers; i++) {
      const child = spawn(
        process.execPath,
        [
          ...(settings.cpuProfDir ? ["--cpu-prof", "--cpu-prof-dir", settings.cpuProfDir] : []),
          CLI,
          "--graphs",
          GRAPHS,
        ],
        {
          env: serviceEnv(
            { databaseUrl: withAppName(schema.url, APP_NAMES.worker), redisUrl, schema: schema.name, prefix },
            {
              WORKER_ID: `bench-w${i}`,
              WORKER_CONCURRENCY: String(settings.concurrency),
              STEP_BUDGET_STEPS: String(settings.budgetSteps),
              STEP_BUDGET_MS: String(settings.budgetMs),
              LOG_LEVEL: "warn",
              BENCH_DURABILITY: settings.durability,
            },
          ),
          // Warnings and errors of the workers show on this process's stderr.
          stdio: ["ignore", process.stderr, process.stderr],
          // Their own process group: a Ctrl-C in the terminal reaches only this process, which
          // lets the ops in flight finish before it stops the workers.
          detached: true,
        },
      );
      children.push(child);
      if (child.pid !== undefined) workerPids.set(`worker ${i}`, child.pid);
    }
    await untilWorkersReady(queue, children, settings.workers);
    log(`${settings.workers} worker processes ready (schema ${schema.name}, prefix ${prefix})`);

    const { client, close } = benchClient({
      databaseUrl: schema.url,
      redisUrl,
      schema: schema.name,
      prefix,
      appName: APP_NAMES.client,
      max: settings.clientPool,
    });
    cleanups.push(close);

    const redisPid = await redisServerPid(queueConnection);
    return {
      schema: schema.name,
      redisPid,
      prefix,
      databaseUrl: schema.url,
      client,
      queue,
      workerPids,
      async jobsInRedis() {
        const counts = await queue.getJobCounts("waiting", "active", "delayed", "prioritized");
        return Object.values(counts).reduce((a, b) => a + b, 0);
      },
      close: cleanup,
    };
  } catch (error) {
    await cleanup();
    throw error;
  }
}
