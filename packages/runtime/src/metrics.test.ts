import type { AddressInfo } from "node:net";
import { describe, expect, it } from "vitest";
import { createMetrics, serveMetrics } from "./metrics.ts";

describe("metrics", () => {
  it("serves counters, histograms and scraped gauges as Prometheus text on /metrics", async () => {
    const metrics = createMetrics("worker");
    metrics.supersteps.inc(3);
    metrics.jobs.inc({ result: "parked" });
    metrics.stepSeconds.observe(0.004);
    metrics.gauge("layover_queue_depth", "Step jobs waiting.", async () => 7);
    const server = await serveMetrics(metrics.registry, 0);
    try {
      const { port } = server.address() as AddressInfo;
      const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
      expect(text).toContain('layover_supersteps_total{service="worker"} 3');
      expect(text).toContain('layover_jobs_total{result="parked",service="worker"} 1');
      expect(text).toContain('layover_step_duration_seconds_bucket{le="0.005",service="worker"} 1');
      expect(text).toContain('layover_queue_depth{service="worker"} 7');
      expect((await fetch(`http://127.0.0.1:${port}/other`)).status).toBe(404);
    } finally {
      server.close();
    }
  });
});
