// A worker's Prometheus metrics against real Postgres, Redis and BullMQ: what they count is what
// the runs did.
import { createWorker } from "@layover/worker";
import pino from "pino";
import { afterAll, beforeAll, expect, it } from "vitest";
import { graphs } from "./fixtures/graphs.ts";
import { createHarness, type Harness, parkedApproval } from "./support/harness.ts";

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
