import type { Server } from "node:http";
import { afterEach, describe, expect, it } from "vitest";
import { createMetrics } from "./metrics.ts";
import { metricsPortOf, type Probe, type ServiceState, serveMetrics } from "./status-server.ts";

let server: Server | undefined;
afterEach(() => {
  server?.close();
  server = undefined;
});

async function serve(probes: Record<string, Probe>, state: () => ServiceState = () => "running") {
  server = await serveMetrics(createMetrics("worker").registry, 0, { state, probes });
  const base = `http://127.0.0.1:${metricsPortOf(server)}`;
  return async (path: string, init?: RequestInit) => {
    const response = await fetch(`${base}${path}`, init);
    const text = await response.text();
    return { status: response.status, body: text ? JSON.parse(text) : undefined };
  };
}

const ok: Probe = async () => {};

describe("liveness and readiness probes", () => {
  it("answers /livez while the process runs, and /readyz 200 when every probe passes", async () => {
    const get = await serve({ postgres: ok, redis: ok });
    expect(await get("/livez")).toEqual({ status: 200, body: { status: "live" } });
    expect(await get("/readyz")).toEqual({
      status: 200,
      body: { status: "ready", state: "running", checks: { postgres: "ok", redis: "ok" } },
    });
    expect((await get("/readyz", { method: "HEAD" })).status).toBe(200);
    expect((await get("/readyz", { method: "POST" })).status).toBe(405);
  });

  it("answers 503 naming the dependency that failed, and the others' state", async () => {
    const get = await serve({
      postgres: async () => {
        throw new Error("connect ECONNREFUSED 127.0.0.1:5432");
      },
      redis: ok,
    });
    expect(await get("/readyz")).toEqual({
      status: 503,
      body: {
        status: "unavailable",
        state: "running",
        checks: { postgres: "connect ECONNREFUSED 127.0.0.1:5432", redis: "ok" },
      },
    });
    // Liveness does not depend on Postgres: restarting the process would not bring it back.
    expect((await get("/livez")).status).toBe(200);
  });

  it("is unavailable while starting and once closing, without asking the dependencies", async () => {
    let state: ServiceState = "starting";
    let asked = 0;
    const get = await serve(
      {
        postgres: async () => {
          asked += 1;
        },
      },
      () => state,
    );
    expect(await get("/readyz")).toEqual({
      status: 503,
      body: { status: "unavailable", state: "starting", checks: {} },
    });
    state = "running";
    expect((await get("/readyz")).status).toBe(200);
    state = "closing";
    expect((await get("/readyz")).body).toMatchObject({ status: "unavailable", state: "closing" });
    expect(asked).toBe(1);
  });

  it("counts a probe that hangs as failed after 2 s, and never runs a second one beside it", async () => {
    let started = 0;
    const get = await serve({
      postgres: () => {
        started += 1;
        return new Promise<void>(() => {});
      },
      redis: ok,
    });
    const [first, second] = await Promise.all([get("/readyz"), get("/readyz")]);
    for (const answer of [first, second])
      expect(answer).toEqual({
        status: 503,
        body: {
          status: "unavailable",
          state: "running",
          checks: { postgres: "postgres: no answer within 2000 ms", redis: "ok" },
        },
      });
    expect((await get("/readyz")).status).toBe(503);
    // Three probes, one statement: a hung Postgres holds one pool connection, not one per probe.
    expect(started).toBe(1);
  }, 15_000);

  it("serves no /readyz without a readiness to report", async () => {
    server = await serveMetrics(createMetrics("scheduler").registry, 0);
    const base = `http://127.0.0.1:${metricsPortOf(server)}`;
    expect((await fetch(`${base}/readyz`)).status).toBe(404);
    expect((await fetch(`${base}/livez`)).status).toBe(200);
  });
});
