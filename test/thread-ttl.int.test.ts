// The scheduler's thread TTL (THREAD_TTL_MS) against real Postgres, Redis and BullMQ: finished
// threads untouched for longer are deleted with every row, on a schedule; the rest stay; a
// scheduler started without a TTL stops the schedule.
import { SCHEDULER_QUEUE } from "@layover/runtime";
import { Queue } from "bullmq";
import { Redis } from "ioredis";
import { afterAll, beforeAll, expect, it } from "vitest";
import { createHarness, type Harness, threadRows } from "./support/harness.ts";

let h: Harness;
beforeAll(async () => {
  h = await createHarness("thread_ttl");
  await h.startWorker({ id: "ttl-worker" });
}, 60_000);
afterAll(async () => {
  await h?.close();
});

async function finished(): Promise<string> {
  const { runId, threadId } = await h.client.runs.start({ graphId: "linear", input: {} });
  expect(await h.client.runs.wait(runId, { timeoutMs: 20_000 })).toMatchObject({ status: "success" });
  return threadId;
}

it("deletes finished threads untouched for longer than the TTL, and keeps the others", async () => {
  const [old, recent] = [await finished(), await finished()];
  // A replica without a TTL takes the ticks; the one that set the schedule (with a TTL) has
  // stopped since: the ticks carry its TTL.
  const stopOther = await h.startScheduler({ id: "without-ttl" });
  await (await h.startScheduler({ id: "with-ttl", threadTtlMs: 86_400_000 }))();
  try {
    await h.pool.query(
      `UPDATE "${h.schema}".threads SET updated_at = now() - interval '2 days' WHERE id = $1`,
      [old],
    );
    for (let i = 0; (await threadRows(h, old)).threads > 0; i++) {
      if (i > 200) throw new Error("the scheduler never pruned the old thread");
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    expect(await threadRows(h, old)).toEqual({ threads: 0, runs: 0, interrupts: 0, checkpoints: 0 });
    expect((await threadRows(h, recent)).threads).toBe(1);
  } finally {
    await stopOther();
  }

  // Started without a TTL, a scheduler removes the schedule: nothing is pruned any more.
  await (await h.startScheduler({ id: "without-ttl-again" }))();
  const connection = new Redis(h.redisUrl, { maxRetriesPerRequest: null });
  const queue = new Queue(SCHEDULER_QUEUE, { connection, prefix: h.prefix });
  try {
    expect(await queue.getJobScheduler("prune-threads")).toBeUndefined();
    expect(await queue.getJobScheduler("sweep")).toBeDefined();
  } finally {
    await queue.close();
    connection.disconnect();
  }
});
