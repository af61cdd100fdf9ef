// A job whose BullMQ lock is lost while its node runs — here its lock key is deleted, as Redis
// evicting it would, or the lock lapsing while Redis was out of reach — is another worker's (or
// this worker's next attempt's): its node's `config.signal` aborts at once, as a cancel's does,
// so the call it made is not made twice, and no error handler runs for it. Real Redis, BullMQ
// and Postgres; the worker runs in this process, so the test reads what its node saw.
import { END, START, StateGraph, StateSchema } from "@layover/graph";
import { createWorker } from "@layover/worker";
import { Redis } from "ioredis";
import pino from "pino";
import { afterAll, beforeAll, expect, it } from "vitest";
import { z } from "zod";
import { slowCall } from "./fixtures/abortable.ts";
import { checkpointForks, createHarness, type Harness } from "./support/harness.ts";
import { until } from "./support/until.ts";

/** Attempts of `call` per thread: the first waits on a 30 s call, a later one answers at once. */
const attempts = new Map<string, number>();
/** How the first attempt's call ended, per thread: the signal's reason, named. */
const aborted = new Map<string, { reason: string; cause: string | undefined }>();
/** Threads whose error handler ran. */
const handled: string[] = [];

const threadOf = (config: { configurable?: Record<string, unknown> }) =>
  String(config.configurable?.thread_id);

const lockLoss = new StateGraph(new StateSchema({ done: z.boolean().default(false) }))
  .addNode(
    "call",
    async (_state, config) => {
      const thread = threadOf(config);
      const attempt = (attempts.get(thread) ?? 0) + 1;
      attempts.set(thread, attempt);
      if (attempt > 1) return { done: true };
      try {
        await slowCall(30_000, config.signal);
      } catch (error) {
        const reason = config.signal?.reason as Error;
        aborted.set(thread, { reason: reason.name, cause: (reason.cause as Error | undefined)?.name });
        throw error;
      }
      return { done: true };
    },
    {
      errorHandler: (_state, _error, config) => {
        handled.push(threadOf(config));
        return { done: false };
      },
    },
  )
  .addEdge(START, "call")
  .addEdge("call", END)
  .compile();

let h: Harness;
let redis: Redis;
let worker: ReturnType<typeof createWorker>;

beforeAll(async () => {
  h = await createHarness("job_lost_signal");
  redis = new Redis(h.redisUrl);
  // Locks of 1 s (renewed every 0.5 s), stalled jobs looked for every 0.5 s.
  worker = createWorker({
    graphs: { lockLoss },
    databaseUrl: h.databaseUrl,
    redisUrl: h.redisUrl,
    schema: h.schema,
    prefix: h.prefix,
    workerId: "w",
    logger: pino({ level: "silent" }),
    lockDurationMs: 1_000,
    stalledIntervalMs: 500,
  });
  await worker.start();
}, 60_000);
afterAll(async () => {
  await worker?.close();
  redis?.disconnect();
  await h?.close();
});

it("a job that loses its lock mid-call aborts its node's signal: no error handler, and the run finishes once", async () => {
  const { runId, threadId } = await h.client.runs.start({ graphId: "lockLoss", input: {} });
  await until(() => attempts.get(threadId) === 1, 10_000, "the node never started");
  const [job] = await h.queue.getJobs(["active"]);
  expect(job?.data.threadId).toBe(threadId);
  expect(await redis.del(`${h.queue.toKey(job?.id ?? "")}:lock`)).toBe(1);

  // The lock's next renewal fails (or the job is handed out again first): the call stops then,
  // not 30 s later.
  await until(() => aborted.has(threadId), 5_000, "the node's signal never aborted");
  expect(aborted.get(threadId)).toEqual({ reason: "AbortError", cause: "JobLockLostError" });
  expect(await h.client.runs.wait(runId, { timeoutMs: 15_000 })).toMatchObject({
    status: "success",
    values: { done: true },
  });
  expect(attempts.get(threadId)).toBe(2);
  expect(handled).toEqual([]);
  // Each superstep stored once: the lost attempt stored nothing beside the one that went on.
  expect(await checkpointForks(h, [threadId])).toEqual([]);
  // Operators see the lost job apart from lost compare-and-sets.
  const metrics = await worker.context.metrics.registry.metrics();
  expect(metrics).toContain('layover_jobs_total{result="lock_lost",service="worker"} 1');
  expect(metrics).toContain('layover_jobs_total{result="finished",service="worker"} 1');
}, 30_000);
