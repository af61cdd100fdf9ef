// A service's HTTP port: Prometheus metrics, and the probes an orchestrator asks (Kubernetes,
// Docker's healthcheck): is the process alive, and can it do its work now.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { Redis } from "ioredis";
import type pg from "pg";
import type { Registry } from "prom-client";
import { InvalidConfigError } from "./errors.ts";
import { orLate } from "./within.ts";

/** Where a service is in its life: only a running one is ready. */
export type ServiceState = "starting" | "running" | "closing";

/** A check that resolves when a dependency answers and rejects with what is wrong. */
export type Probe = () => Promise<void>;

/** What `/readyz` asks: the service's state, then each probe (run only while running). */
export interface Readiness {
  state(): ServiceState;
  probes: Record<string, Probe>;
}

/** The answer of `/readyz`, as JSON: `checks` names each probe's problem, or "ok". */
export interface ReadinessReport {
  status: "ready" | "unavailable";
  state: ServiceState;
  checks: Record<string, string>;
}

/** How long a probe may take before the service counts as unavailable. */
export const PROBE_TIMEOUT_MS = 2_000;

/**
 * The statement that asks whether Postgres is there (the readiness probe's, the outage gate's):
 * answered within the probe's time, or not there. Its own query_timeout (pg takes one per
 * statement; its types leave it out) also keeps it off a PipelinedPool's lanes: it takes a
 * connection, not a place behind the statements a lane is busy with.
 */
export const POSTGRES_QUESTION = { text: "SELECT 1", query_timeout: PROBE_TIMEOUT_MS } as pg.QueryConfig;

/** Postgres answers a statement on `pool` (a connection free within the probe's time). */
export function postgresProbe(pool: pg.Pool): Probe {
  return async () => {
    await pool.query(POSTGRES_QUESTION);
  };
}

/**
 * Every connection is up and the first takes a write (`key`, expiring): a Redis out of memory
 * (maxmemory under noeviction) or a read-only replica answers a PING but refuses every enqueue.
 * A connection that is reconnecting fails the probe at once: a command would wait in its queue
 * until Redis came back.
 */
export function redisProbe(connections: Redis[], key: string): Probe {
  return async () => {
    const down = connections.find((redis) => redis.status !== "ready");
    if (down) throw new Error(`a Redis connection is ${down.status}`);
    await connections[0]?.set(key, "1", "PX", 60_000);
  };
}

/** The BullMQ worker `current()` returns is taking jobs (not closed, not yet started). */
export function takingJobsProbe(current: () => { isRunning(): boolean } | undefined): Probe {
  return async () => {
    if (!current()?.isRunning()) throw new Error("not taking jobs");
  };
}

/**
 * A service's probes: Postgres answers on its pool, its Redis connections are up and take a
 * write (of `redisKey`: the service's own, under its prefix), and its BullMQ worker (`current()`)
 * takes jobs.
 */
export function serviceProbes(
  pool: pg.Pool,
  redis: Redis[],
  redisKey: string,
  current: () => { isRunning(): boolean } | undefined,
): Record<string, Probe> {
  return {
    postgres: postgresProbe(pool),
    redis: redisProbe(redis, redisKey),
    jobs: takingJobsProbe(current),
  };
}

/**
 * Runs the probes (each within PROBE_TIMEOUT_MS) when the service is running. A probe still
 * under way from an earlier call is awaited again rather than started anew, so a busy
 * orchestrator's probes hold at most one of the pool's connections, even while Postgres hangs.
 */
export function readinessCheck(readiness: Readiness): () => Promise<ReadinessReport> {
  const underWay = new Map<string, Promise<void>>();
  const probe = (name: string): Promise<void> => {
    let running = underWay.get(name);
    if (!running) {
      running = (readiness.probes[name] as Probe)().finally(() => underWay.delete(name));
      underWay.set(name, running);
    }
    return orLate(running, PROBE_TIMEOUT_MS, name);
  };
  return async () => {
    const state = readiness.state();
    if (state !== "running") return { status: "unavailable", state, checks: {} };
    const names = Object.keys(readiness.probes);
    const outcomes = await Promise.allSettled(names.map(probe));
    const checks = Object.fromEntries(
      outcomes.map((outcome, i) => [
        names[i],
        outcome.status === "fulfilled" ? "ok" : String((outcome.reason as Error)?.message ?? outcome.reason),
      ]),
    );
    const ok = outcomes.every((outcome) => outcome.status === "fulfilled");
    // The state may have changed while the probes ran (a SIGTERM).
    const now = readiness.state();
    return { status: ok && now === "running" ? "ready" : "unavailable", state: now, checks };
  };
}

function json(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { "content-type": "application/json" }).end(JSON.stringify(body));
}

function answer(
  req: IncomingMessage,
  res: ServerResponse,
  registry: Registry,
  ready?: () => Promise<ReadinessReport>,
) {
  // A scrape may carry query parameters (Prometheus's `params`); only the path decides.
  const path = (req.url ?? "").split("?", 1)[0];
  const known = path === "/metrics" || path === "/livez" || (path === "/readyz" && ready !== undefined);
  if (!known) return void res.writeHead(404).end();
  if (req.method !== "GET" && req.method !== "HEAD")
    return void res.writeHead(405, { allow: "GET, HEAD" }).end();
  if (path === "/livez") return json(res, 200, { status: "live" });
  if (path === "/readyz" && ready) {
    ready().then(
      (report) => json(res, report.status === "ready" ? 200 : 503, report),
      (error: Error) => json(res, 503, { status: "unavailable", error: error.message }),
    );
    return;
  }
  registry.metrics().then(
    (text) => res.writeHead(200, { "content-type": registry.contentType }).end(text),
    (error: Error) => res.writeHead(500).end(error.message),
  );
}

/**
 * A service's start from where its status server comes up: serves on `port` when given (its
 * failure fails the start before `rest`), then runs `rest`; if `rest` fails, the server closes, so
 * a start tried again binds the port again. The server, once `rest` is done.
 */
export async function startServing(
  port: number | undefined,
  serve: (port: number) => Promise<Server>,
  rest: () => Promise<void>,
): Promise<Server | undefined> {
  const server = port === undefined ? undefined : await serve(port);
  try {
    await rest();
  } catch (error) {
    server?.close();
    throw error;
  }
  return server;
}

/** The port a status server listens on (the one picked, when it was asked for 0); undefined without one. */
export function metricsPortOf(server: Server | undefined): number | undefined {
  const address = server?.address();
  return typeof address === "object" && address !== null ? address.port : undefined;
}

/**
 * Serves on `port` (0 picks a free one): `GET /metrics` (Prometheus text format), `GET /livez`
 * (200 while the process answers: a liveness probe) and, given `readiness`, `GET /readyz` (200
 * when the service runs and its probes pass, else 503; JSON saying which failed). Rejects when
 * the port cannot be used (taken, not permitted): call it before taking work.
 */
export async function serveMetrics(registry: Registry, port: number, readiness?: Readiness): Promise<Server> {
  const ready = readiness ? readinessCheck(readiness) : undefined;
  const server = createServer((req, res) => answer(req, res, registry, ready));
  await new Promise<void>((resolve, reject) => {
    server.once("error", (error: Error) =>
      reject(
        new InvalidConfigError(
          `Cannot serve metrics on port ${port}: ${error.message}. Set METRICS_PORT to a free port.`,
          { cause: error },
        ),
      ),
    );
    server.listen(port, "0.0.0.0", resolve);
  });
  server.on("error", () => {}); // after listening: a failed connection must not crash the process
  return server;
}
