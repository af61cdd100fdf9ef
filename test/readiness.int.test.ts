// The probes an orchestrator asks a worker and a scheduler (`/livez`, `/readyz` on METRICS_PORT),
// against real Postgres and Redis reached through TCP proxies that a test can cut or silence.
import { createScheduler } from "@layover/scheduler";
import { tcpProxy } from "@layover/testing";
import { createWorker } from "@layover/worker";
import pino from "pino";
import { afterAll, beforeAll, expect, it } from "vitest";
import { graphs } from "./fixtures/graphs.ts";
import { createHarness, type Harness } from "./support/harness.ts";

let h: Harness;
beforeAll(async () => {
  h = await createHarness("readiness");
}, 60_000);
afterAll(async () => {
  await h?.close();
});

/** A logger whose lines the test reads, and the metrics port its service says it serves. */
function capturedLogger() {
  const lines: string[] = [];
  const logger = pino({ level: "info" }, { write: (line: string) => void lines.push(line) });
  const port = () => {
    const started = lines.find((line) => /"msg":"(worker|scheduler) started"/.test(line));
    return (JSON.parse(started as string) as { metricsPort: number }).metricsPort;
  };
  return { logger, port };
}

async function probe(port: number, path = "/readyz") {
  const response = await fetch(`http://127.0.0.1:${port}${path}`);
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

/** Asks until the answer's status is `status` (the probes follow a reconnect, not an instant). */
async function until(port: number, status: number, withinMs = 15_000) {
  const deadline = Date.now() + withinMs;
  for (;;) {
    const answer = await probe(port);
    if (answer.status === status || Date.now() > deadline) return answer;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

it("a worker is ready while it takes jobs, and says which dependency is gone when one is", async () => {
  const postgres = await tcpProxy(h.databaseUrl);
  const redis = await tcpProxy(h.redisUrl);
  const { logger, port } = capturedLogger();
  const worker = createWorker({
    graphs,
    databaseUrl: postgres.url,
    redisUrl: redis.url,
    schema: h.schema,
    prefix: h.prefix,
    metricsPort: 0,
    timeouts: { queryTimeoutMs: 3_000 },
    logger,
  });
  try {
    await worker.start();
    const ready = { postgres: "ok", redis: "ok", jobs: "ok" };
    expect(await probe(port())).toEqual({
      status: 200,
      body: { status: "ready", state: "running", checks: ready },
    });

    redis.cut();
    const noRedis = await until(port(), 503);
    expect(noRedis.body).toMatchObject({ status: "unavailable", checks: { postgres: "ok" } });
    expect((noRedis.body.checks as { redis: string }).redis).toMatch(
      /^a Redis connection is (connecting|reconnecting|close|end)$/,
    );
    // Alive all the same: a restart would not bring Redis back.
    expect((await fetch(`http://127.0.0.1:${port()}/livez`)).status).toBe(200);
    redis.restore();
    expect((await until(port(), 200)).body).toMatchObject({ status: "ready", checks: ready });

    postgres.freeze();
    const silent = await until(port(), 503);
    expect(silent.body).toMatchObject({
      status: "unavailable",
      checks: { postgres: "postgres: no answer within 2000 ms", redis: "ok", jobs: "ok" },
    });
    postgres.restore();
    // The statement sent into the silence fails after the pool's query timeout; then a new one answers.
    expect((await until(port(), 200)).body).toMatchObject({ status: "ready", checks: ready });
    // And the worker still does its work.
    const { runId } = await h.client.runs.start({ graphId: "linear", input: {} });
    expect(await h.client.runs.wait(runId, { timeoutMs: 10_000 })).toMatchObject({ status: "success" });
  } finally {
    await worker.close();
    await postgres.close();
    await redis.close();
  }
}, 60_000);

it("a worker finishing its jobs after SIGTERM's close() is no longer ready, while still alive", async () => {
  const { logger, port } = capturedLogger();
  const worker = createWorker({ graphs, ...h.deployment, metricsPort: 0, logger });
  await worker.start();
  const { runId } = await h.client.runs.start({ graphId: "slow-chain", input: { delayMs: 400 } });
  while ((await h.client.runs.get(runId)).status !== "running")
    await new Promise((resolve) => setTimeout(resolve, 20));
  const closed = worker.close();
  try {
    expect(await probe(port())).toEqual({
      status: 503,
      body: { status: "unavailable", state: "closing", checks: {} },
    });
    expect((await fetch(`http://127.0.0.1:${port()}/livez`)).status).toBe(200);
  } finally {
    await closed;
  }
  // What it held was handed back whole: another worker finishes the run.
  const stop = await h.startWorker();
  try {
    expect(await h.client.runs.wait(runId, { timeoutMs: 15_000 })).toMatchObject({ status: "success" });
  } finally {
    await stop();
  }
}, 30_000);

it("a scheduler is ready once it has set its schedules and takes their ticks", async () => {
  const { logger, port } = capturedLogger();
  const scheduler = createScheduler({ ...h.deployment, metricsPort: 0, logger });
  try {
    await scheduler.start();
    expect(await probe(port())).toEqual({
      status: 200,
      body: { status: "ready", state: "running", checks: { postgres: "ok", redis: "ok", jobs: "ok" } },
    });
  } finally {
    await scheduler.close();
  }
}, 30_000);
