// One sweep call expires every due interrupt, also when threads wait for several at once (a
// batch claims interrupts, so it can cover fewer threads than its size).
import { createDb, createDispatcher, sweepExpiredInterrupts } from "@layover/runtime";
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createHarness, type Harness } from "./support/harness.ts";

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
      const resumed = await sweepExpiredInterrupts(createDb(h.pool, h.schema), dispatcher, { batchSize: 2 });
      expect(resumed).toBe(threads.length);
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
