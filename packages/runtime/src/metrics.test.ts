import type { AddressInfo } from "node:net";
import { describe, expect, it } from "vitest";
import { createMetrics } from "./metrics.ts";
import { serveMetrics } from "./status-server.ts";

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
      // A node that calls a model or a tool for minutes still falls in a bucket of its own.
      expect(text).toContain('layover_step_duration_seconds_bucket{le="600",service="worker"} 1');
      expect(text).toContain('layover_queue_depth{service="worker"} 7');
      const fresh =
        /layover_gauge_read_age_seconds\{gauge="layover_queue_depth",service="worker"\} ([\d.e-]+)\n/.exec(
          text,
        );
      expect(Number(fresh?.[1])).toBeLessThan(5);
      // Node's process metrics; not the scheduler's counters.
      expect(text).toContain('process_cpu_user_seconds_total{service="worker"}');
      expect(text).not.toContain("layover_interrupts_expired_total");
      expect((await fetch(`http://127.0.0.1:${port}/other`)).status).toBe(404);
      const withParams = await fetch(`http://127.0.0.1:${port}/metrics?module=layover`);
      expect(withParams.status).toBe(200);
      expect(await withParams.text()).toContain('layover_supersteps_total{service="worker"} 3');
      expect((await fetch(`http://127.0.0.1:${port}/metrics`, { method: "POST" })).status).toBe(405);
    } finally {
      server.close();
    }
  });
});

describe("metrics when a source is down", () => {
  it("still serves every other metric when a gauge's read fails or hangs, keeping its last value", async () => {
    const metrics = createMetrics("scheduler");
    metrics.expired.inc(2);
    let calls = 0;
    metrics.gauge("layover_interrupts_parked", "Parked.", async () => {
      calls += 1;
      if (calls === 1) return 5;
      throw new Error("connect ECONNREFUSED 127.0.0.1:5432");
    });
    metrics.gauge("layover_queue_depth", "Depth.", () => new Promise<number>(() => {}));
    const server = await serveMetrics(metrics.registry, 0);
    try {
      const { port } = server.address() as AddressInfo;
      const scrape = async () => {
        const response = await fetch(`http://127.0.0.1:${port}/metrics`);
        return { status: response.status, text: await response.text() };
      };
      expect((await scrape()).text).toContain('layover_interrupts_parked{service="scheduler"} 5');
      const down = await scrape();
      expect(down.status).toBe(200);
      expect(down.text).toContain('layover_interrupts_expired_total{service="scheduler"} 2');
      expect(down.text).toContain('layover_interrupts_parked{service="scheduler"} 5');
      // …and says how old each gauge's value is: the failing ones' age grows, a fresh one's does not.
      await new Promise((resolve) => setTimeout(resolve, 1_100));
      const age = (text: string, gauge: string) =>
        Number(
          new RegExp(
            `layover_gauge_read_age_seconds\\{gauge="${gauge}",service="scheduler"\\} ([\\d.]+)`,
          ).exec(text)?.[1],
        );
      const later = (await scrape()).text;
      expect(age(later, "layover_interrupts_parked")).toBeGreaterThanOrEqual(1);
      expect(age(later, "layover_queue_depth")).toBeGreaterThanOrEqual(1);
    } finally {
      server.close();
    }
  }, 15_000);

  it("shows a gauge read in this scrape as fresh, however long since the last scrape (it showed the time since the last)", async () => {
    const metrics = createMetrics("scheduler");
    metrics.gauge("layover_interrupts_parked", "Parked.", async () => {
      await new Promise((resolve) => setTimeout(resolve, 50)); // a Postgres round trip
      return 3;
    });
    const server = await serveMetrics(metrics.registry, 0);
    try {
      const { port } = server.address() as AddressInfo;
      const scrape = async () => (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
      await scrape();
      await new Promise((resolve) => setTimeout(resolve, 1_500)); // Prometheus scrapes every 15 s or more
      const text = await scrape();
      expect(text).toContain('layover_interrupts_parked{service="scheduler"} 3');
      const age =
        /layover_gauge_read_age_seconds\{gauge="layover_interrupts_parked",service="scheduler"\} ([\d.e-]+)\n/.exec(
          text,
        );
      expect(Number(age?.[1])).toBeLessThan(0.5);
    } finally {
      server.close();
    }
  });

  it("shows a gauge never read yet (its source down since start) as NaN, not 0: not an all-clear", async () => {
    const metrics = createMetrics("scheduler");
    metrics.gauge("layover_interrupts_parked", "Parked.", async () => {
      throw new Error("connect ECONNREFUSED 127.0.0.1:5432");
    });
    const server = await serveMetrics(metrics.registry, 0);
    try {
      const { port } = server.address() as AddressInfo;
      const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
      // prom-client writes NaN as "Nan", which Prometheus reads as NaN.
      expect(text).toMatch(/^layover_interrupts_parked\{service="scheduler"\} NaN$/im);
    } finally {
      server.close();
    }
  });

  it("refuses to start on a port already taken, saying which", async () => {
    const first = await serveMetrics(createMetrics("worker").registry, 0);
    try {
      const { port } = first.address() as AddressInfo;
      await expect(serveMetrics(createMetrics("worker").registry, port)).rejects.toThrow(
        `Cannot serve metrics on port ${port}`,
      );
    } finally {
      first.close();
    }
  });
});
