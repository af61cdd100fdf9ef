// A producer that goes on starting runs through a long Redis outage: each start is recorded in
// Postgres and returns, its job waiting in the connection's queue to be sent when Redis is back.
// Those waiting jobs are bounded (maxRedisBacklog): beyond the bound a start returns at once
// without holding its job in memory, and reconciliation enqueues its run. Every run finishes.
import { createClient, type LayoverClient } from "@layover/runtime";
import { tcpProxy } from "@layover/testing";
import pino from "pino";
import { afterAll, beforeAll, expect, it } from "vitest";
import { createHarness, type Harness, jobsInRedis, runStatuses } from "./support/harness.ts";
import { until } from "./support/until.ts";

const BACKLOG = 5;
const STARTS = 20;

let h: Harness;
let proxy: Awaited<ReturnType<typeof tcpProxy>>;
let producer: LayoverClient;

beforeAll(async () => {
  h = await createHarness("redis_backlog");
  // A worker registers the graphs (producers check inputs against them), then goes: the jobs
  // this test counts stay in Redis.
  await (await h.startWorker())();
  proxy = await tcpProxy(h.redisUrl);
  producer = createClient({
    ...h.deployment,
    redisUrl: proxy.url,
    maxRedisBacklog: BACKLOG,
    logger: pino({ level: "silent" }),
  });
}, 60_000);
afterAll(async () => {
  await producer?.close();
  await proxy?.close();
  await h?.close();
});

it("keeps at most maxRedisBacklog jobs waiting for Redis; starts beyond it return at once; all runs finish", async () => {
  // Connected first: the outage begins with the producer up.
  const first = await producer.runs.start({ graphId: "linear", input: {} });
  expect(await jobsInRedis(h)).toBe(1);
  proxy.cut();

  const starts = await Promise.all(
    Array.from({ length: STARTS }, async () => {
      const asked = Date.now();
      const started = await producer.runs.start({ graphId: "linear", input: {} });
      return { ...started, ms: Date.now() - asked };
    }),
  );
  // Each start is recorded; the first BACKLOG waited for Redis in vain (REDIS_WAIT_MS, 2 s), the
  // others did not wait at all.
  expect(await runStatuses(h)).toEqual({ pending: STARTS + 1 });
  const slow = starts.filter((s) => s.ms >= 1_500);
  expect(slow.length).toBe(BACKLOG);
  expect(starts.filter((s) => s.ms < 1_000).length).toBe(STARTS - BACKLOG);

  // Back: the connection sends what waited, BACKLOG jobs, and nothing more.
  proxy.restore();
  await until(async () => (await jobsInRedis(h)) === 1 + BACKLOG, 10_000, "the backlog was not sent");
  await new Promise((resolve) => setTimeout(resolve, 500));
  expect(await jobsInRedis(h)).toBe(1 + BACKLOG);

  // Reconciliation enqueues the rest; every run finishes once.
  await h.startWorker();
  await h.startScheduler();
  for (const { runId } of [first, ...starts])
    expect((await h.client.runs.wait(runId, { timeoutMs: 20_000 })).status).toBe("success");
  expect(await runStatuses(h)).toEqual({ success: STARTS + 1 });
}, 60_000);

it("refuses a maxRedisBacklog that is not a count of commands, before connecting", () => {
  for (const bad of [0, -1, 1.5, Number.NaN, "10"])
    expect(() => createClient({ ...h.deployment, maxRedisBacklog: bad as number })).toThrow(
      expect.objectContaining({
        code: "INVALID_CONFIG",
        message: expect.stringContaining("maxRedisBacklog"),
      }),
    );
});
