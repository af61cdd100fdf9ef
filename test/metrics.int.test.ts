// A worker's Prometheus metrics against real Postgres, Redis and BullMQ: what they count is what
// the runs did.
import { randomUUID } from "node:crypto";
import { createScheduler } from "@layover/scheduler";
import { createWorker } from "@layover/worker";
import { Redis } from "ioredis";
import pino from "pino";
import { afterAll, beforeAll, expect, it } from "vitest";
import { graphs } from "./fixtures/graphs.ts";
import { gate } from "./fixtures/held-node.ts";
import { checkpointForks, createHarness, type Harness, parkedApproval } from "./support/harness.ts";
import { until } from "./support/until.ts";

let h: Harness;
beforeAll(async () => {
  h = await createHarness("metrics");
}, 60_000);
afterAll(async () => {
  await h?.close();
});

it("counts every superstep a worker committed, a run's last one and a park's committed ones too", async () => {
  const worker = createWorker({
    graphs,
    databaseUrl: h.databaseUrl,
    redisUrl: h.redisUrl,
    schema: h.schema,
    prefix: h.prefix,
    workerId: "counted",
    logger: pino({ level: "silent" }),
  });
  await worker.start();
  try {
    const linear = await h.client.runs.start({ graphId: "linear", input: {} });
    expect(await h.client.runs.wait(linear.runId)).toMatchObject({ status: "success" });
    // approval: prepare commits, review pauses at interrupt() (no commit).
    await parkedApproval(h, "counted");
    const text = await worker.context.metrics.registry.metrics();
    expect(text).toContain('layover_supersteps_total{service="worker"} 11');
    // Its jobs' statements went out pipelined on its lanes (two at most), and none found them full.
    expect(text).toMatch(/layover_postgres_lanes\{service="worker"\} [12]\n/);
    expect(text).toContain('layover_postgres_lane_spills_total{service="worker"} 0');
    expect((await h.client.runs.get(linear.runId)).steps).toBe(10);
  } finally {
    await worker.close();
  }
});

it("counts each interrupt the timeout sweep expired, not each thread it resumed", async () => {
  const stopWorker = await h.startWorker({ interruptTimeoutMs: 300 });
  const lines: string[] = [];
  const logger = pino({ level: "info" }, { write: (line: string) => void lines.push(line) });
  const scheduler = createScheduler({ ...h.deployment, metricsPort: 0, sweepEveryMs: 200, logger });
  await scheduler.start();
  try {
    const started = lines.find((line) => line.includes('"scheduler started"')) as string;
    const { metricsPort } = JSON.parse(started) as { metricsPort: number };
    // fork asks "go?", then "left?" and "right?" at once: three questions, each timing out.
    const { runId, threadId } = await h.client.runs.start({ graphId: "fork", input: {} });
    await until(
      async () =>
        (await h.client.runs.get(runId)).status !== "pending" &&
        (await h.client.threads.get(threadId)).status === "idle",
      20_000,
      "the thread never ended on its timeout values",
    );
    const { interrupts } = await h.client.interrupts.list({ status: "expired", threadId });
    expect(interrupts).toHaveLength(3);
    const text = await (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text();
    expect(text).toContain('layover_interrupts_expired_total{service="scheduler"} 3');
  } finally {
    await scheduler.close();
    await stopWorker();
  }
}, 60_000);

it("counts a superstep once, when it is stored: not again by the attempt that took over a job whose lock was lost", async () => {
  const worker = createWorker({
    ...h.deployment,
    graphs,
    workerId: "counted-once",
    budget: { steps: 100, ms: 60_000 }, // one job runs the whole run, holding its supersteps in memory
    lockDurationMs: 6_000,
    stalledIntervalMs: 200,
    logger: pino({ level: "silent" }),
  });
  await worker.start();
  const tag = randomUUID();
  try {
    const { runId, threadId } = await h.client.runs.start({ graphId: "held-node", input: { gate: tag } });
    await until(() => gate(tag).reached, 10_000, "the run never reached its node");
    const job = (await h.queue.getJobs(["active"])).find((active) => active.data.runId === runId);
    // Its lock is lost (evicted, or lapsed while Redis was away): the stalled check hands the job
    // out again, and a second attempt takes the run over.
    // (And the queue's stalled-check mark, which an earlier test's worker set for its own interval.)
    const redis = new Redis(h.redisUrl);
    await redis
      .del(`${h.queue.toKey(job?.id ?? "")}:lock`, h.queue.toKey("stalled-check"))
      .finally(() => redis.disconnect());
    // The second attempt's node reaches the gate too: it has taken the run over.
    gate(tag).reached = false;
    await until(() => gate(tag).reached, 10_000, "the job was never handed out again");
    gate(tag).open();
    expect(await h.client.runs.wait(runId, { timeoutMs: 15_000 })).toMatchObject({ status: "success" });
    await until(
      async () => /result="lock_lost"/.test(await worker.context.metrics.registry.metrics()),
      10_000,
      "the first attempt never ended as lock_lost",
    );
    expect(await checkpointForks(h, [threadId])).toEqual([]);
    const { steps } = await h.client.runs.get(runId);
    expect(await worker.context.metrics.registry.metrics()).toContain(
      `layover_supersteps_total{service="worker"} ${steps}`,
    );
  } finally {
    gate(tag).open(); // a job held at the gate would hold close() too
    await worker.close();
  }
}, 60_000);
