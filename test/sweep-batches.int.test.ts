// One sweep call expires every due interrupt, also when threads wait for several at once (a
// batch claims interrupts, so it can cover fewer threads than its size), and says which threads.
import { createDb, createDispatcher, sweepExpiredInterrupts } from "@layover/runtime";
import { createScheduler } from "@layover/scheduler";
import { Redis } from "ioredis";
import pino from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createHarness, type Harness } from "./support/harness.ts";
import { until } from "./support/until.ts";

let h: Harness;

beforeAll(async () => {
  h = await createHarness("sweep_batches");
  // Every interrupt gets a deadline 50 ms after it parks (the global default timeout).
  await h.startWorker({ id: "worker-batches", interruptTimeoutMs: 50 });
}, 60_000);
afterAll(async () => {
  await h?.close();
});

describe("the sweep", () => {
  it("expires all due threads in one call when each waits for two interrupts", async () => {
    const threads = [];
    for (let i = 0; i < 3; i++) {
      const { runId, threadId } = await h.client.runs.start({ graphId: "fork", input: {} });
      await h.client.runs.wait(runId);
      // Answer "go?": the thread parks again on left? and right? at once.
      const parked = await h.client.runs.wait((await h.client.threads.resume(threadId, "go")).runId);
      expect(parked.interrupts).toHaveLength(2);
      threads.push(threadId);
    }
    await new Promise((resolve) => setTimeout(resolve, 100)); // all deadlines passed
    const redis = new Redis(h.redisUrl, { maxRetriesPerRequest: null });
    const dispatcher = createDispatcher(redis, h.prefix);
    try {
      // Two interrupts per batch: one thread per batch.
      const told: string[] = [];
      const resumed = await sweepExpiredInterrupts(createDb(h.pool, h.schema), dispatcher, {
        batchSize: 2,
        onResumed: (threadIds) => told.push(...threadIds),
      });
      expect(resumed).toBe(threads.length);
      // Which threads, as the scheduler's log line names them.
      expect(told.sort()).toEqual([...threads].sort());
    } finally {
      await dispatcher.close();
      redis.disconnect();
    }
    for (const threadId of threads) {
      const { interrupts } = await h.client.interrupts.list({ status: "pending", threadId });
      expect(interrupts).toEqual([]);
    }
  });
});

describe("the scheduler's sweep", () => {
  it("logs the threads it resumed with their timeout values, not only how many", async () => {
    const { runId, threadId } = await h.client.runs.start({ graphId: "timed", input: { timeoutMs: 100 } });
    expect((await h.client.runs.wait(runId)).status).toBe("interrupted");
    const lines: string[] = [];
    const logger = pino({ level: "info" }, { write: (line: string) => lines.push(line) });
    const scheduler = createScheduler({
      ...h.deployment,
      logger,
      sweepEveryMs: 100,
      reconcileEveryMs: 3_600_000,
    });
    await scheduler.start();
    try {
      const said = () => lines.find((line) => line.includes("expired interrupts resumed"));
      await until(() => said() !== undefined, 10_000, "no sweep line");
      expect(JSON.parse(said() as string)).toMatchObject({ resumed: 1, threadIds: [threadId] });
    } finally {
      await scheduler.close();
    }
  });
});
