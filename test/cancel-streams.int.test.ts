// runs.cancel and the run's stream. The canceller writes a stream's end entry only for a run
// cancelled while queued (no job of it will run to write one). A parked run's stream ended as it
// parked, but the canceller took it for queued (its thread no longer names it) and wrote a second
// end, waiting on Redis for it: with Redis away, a cancel took twice the documented 2 s.
import { createClient } from "@layover/runtime";
import { Redis } from "ioredis";
import pino from "pino";
import { afterAll, beforeAll, expect, it } from "vitest";
import { createHarness, type Harness } from "./support/harness.ts";

let h: Harness;

beforeAll(async () => {
  h = await createHarness("cancel_streams");
  await h.startWorker({ id: "worker-a" });
}, 60_000);
afterAll(async () => {
  await h?.close();
});

/** A streamed approval run, parked at its question, with its stream's end entry written. */
async function parkedStreamed(item: string): Promise<string> {
  const { runId } = await h.client.runs.start({
    graphId: "approval",
    input: { item },
    config: { streamMode: "updates" },
  });
  expect((await h.client.runs.wait(runId, { timeoutMs: 20_000 })).status).toBe("interrupted");
  // The worker appends the end entry as the run parks; wait until it is there.
  for (let i = 0; i < 100 && (await endEntries(runId)) === 0; i++)
    await new Promise((resolve) => setTimeout(resolve, 20));
  expect(await endEntries(runId)).toBe(1);
  return runId;
}

async function endEntries(runId: string): Promise<number> {
  const redis = new Redis(h.redisUrl);
  try {
    const entries = (await redis.xrange(`${h.prefix}:run-stream:${runId}`, "-", "+")) as [string, string[]][];
    return entries.filter(([, fields]) => fields.includes("__end__")).length;
  } finally {
    redis.disconnect();
  }
}

it("a parked run's cancel leaves its stream with the one end entry it parked with", async () => {
  const runId = await parkedStreamed("cancel-parked");
  expect(await h.client.runs.cancel(runId)).toEqual({ status: "cancelled" });
  expect(await endEntries(runId)).toBe(1);
});

it("with Redis away, a parked run's cancel returns within the 2 s it waits for Redis", async () => {
  const runId = await parkedStreamed("cancel-redis-away");
  const away = createClient({
    databaseUrl: h.databaseUrl,
    redisUrl: "redis://127.0.0.1:1", // nothing listens
    schema: h.schema,
    prefix: h.prefix,
    logger: pino({ level: "silent" }),
  });
  try {
    const began = Date.now();
    expect(await away.runs.cancel(runId)).toEqual({ status: "cancelled" });
    expect(Date.now() - began).toBeLessThan(3_000);
  } finally {
    await away.close();
  }
}, 30_000);
