// A job whose BullMQ lock is lost while its node runs — here its lock key is deleted, as Redis
// evicting it would, or the lock lapsing while Redis was out of reach — is another worker's, or
// here this worker's own next attempt's: the stalled-job check hands the job out again, and this
// worker takes it while the first attempt still runs. The first attempt's `config.signal` aborts
// then, as a cancel's does, so the call it made is not made twice, and no error handler runs for
// it; and the second attempt's lock stays renewed while it runs (BullMQ renews one lock per job
// id). Real Redis, BullMQ and Postgres; the worker runs in this process, so the test reads what
// its node saw.
import { END, START, StateGraph, StateSchema } from "@layover/graph";
import { createWorker } from "@layover/worker";
import { Redis } from "ioredis";
import pino from "pino";
import { afterAll, beforeAll, expect, it } from "vitest";
import { z } from "zod";
import { slowCall } from "./fixtures/abortable.ts";
import { checkpointForks, createHarness, type Harness } from "./support/harness.ts";
import { until } from "./support/until.ts";

/** The job's lock (ms); BullMQ renews it every half of it, the first time no sooner than a quarter in. */
const LOCK_MS = 6_000;

/** Attempts of `call` per thread: the first waits on a 30 s call, a later one on one longer than the lock. */
const attempts = new Map<string, number>();
/** The attempts whose call was aborted, per thread, with the signal's reason, named. */
const aborted = new Map<string, Array<{ attempt: number; reason: string; cause: string | undefined }>>();
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
      try {
        await slowCall(attempt === 1 ? 30_000 : LOCK_MS + 2_000, config.signal);
      } catch (error) {
        const reason = config.signal?.reason as Error;
        const cause = (reason.cause as Error | undefined)?.name;
        aborted.set(thread, [...(aborted.get(thread) ?? []), { attempt, reason: reason.name, cause }]);
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
  // Stalled jobs looked for every 0.2 s: a job whose lock is gone is handed out again long
  // before its lock's first renewal would fail.
  worker = createWorker({
    graphs: { lockLoss },
    databaseUrl: h.databaseUrl,
    redisUrl: h.redisUrl,
    schema: h.schema,
    prefix: h.prefix,
    workerId: "w",
    logger: pino({ level: "silent" }),
    lockDurationMs: LOCK_MS,
    stalledIntervalMs: 200,
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
  const lock = `${h.queue.toKey(job?.id ?? "")}:lock`;
  // Taken a moment ago: its first renewal is over a second away, the stalled check 0.2–0.4 s.
  expect(await redis.pttl(lock)).toBeGreaterThan(LOCK_MS - 1_000);
  expect(await redis.del(lock)).toBe(1);

  // This worker takes the job again while the first attempt runs: the first's call stops then,
  // not 30 s later.
  await until(() => attempts.get(threadId) === 2, 5_000, "the job was never handed out again");
  await until(() => aborted.has(threadId), 2_000, "the first attempt's signal never aborted");
  expect(aborted.get(threadId)).toEqual([{ attempt: 1, reason: "AbortError", cause: "JobLockLostError" }]);
  // The second runs longer than its lock: renewed all along, it is not handed out a third time.
  expect(await h.client.runs.wait(runId, { timeoutMs: 20_000 })).toMatchObject({
    status: "success",
    values: { done: true },
  });
  expect(attempts.get(threadId)).toBe(2);
  expect(aborted.get(threadId)).toHaveLength(1);
  expect(await h.queue.getJobs(["failed"])).toEqual([]);
  expect(handled).toEqual([]);
  // Each superstep stored once: the lost attempt stored nothing beside the one that went on.
  expect(await checkpointForks(h, [threadId])).toEqual([]);
  // Operators see the lost job apart from lost compare-and-sets.
  const metrics = await worker.context.metrics.registry.metrics();
  expect(metrics).toContain('layover_jobs_total{result="lock_lost",service="worker"} 1');
  expect(metrics).toContain('layover_jobs_total{result="finished",service="worker"} 1');
}, 40_000);
