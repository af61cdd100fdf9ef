// close() on a worker, a scheduler and a client releases every connection they opened, so a
// process that embeds them (a test runner, a serverless handler, a script) exits on its own.
// And a worker process whose Redis is gone still exits on SIGTERM, within its shutdown timeout.
import { spawn } from "node:child_process";
import { once } from "node:events";
import { fileURLToPath } from "node:url";
import { serviceEnv, tcpProxy } from "@layover/testing";
import { afterAll, beforeAll, expect, it } from "vitest";
import { createHarness, type Harness } from "./support/harness.ts";

const SCRIPT = fileURLToPath(new URL("./fixtures/embedded-services.ts", import.meta.url));
let h: Harness;

beforeAll(async () => {
  h = await createHarness("shutdown");
}, 60_000);
afterAll(async () => {
  await h?.close();
});

it("a process that closes its worker, scheduler and client exits without process.exit", async () => {
  const child = spawn(process.execPath, [SCRIPT], {
    env: serviceEnv(h.deployment),
    stdio: ["ignore", "pipe", "inherit"],
  });
  let output = "";
  child.stdout?.on("data", (chunk: Buffer) => {
    output += chunk.toString();
  });
  const timer = setTimeout(() => child.kill("SIGKILL"), 20_000);
  const [code, signal] = await once(child, "exit");
  clearTimeout(timer);
  expect(output).toContain("run success; closed");
  expect({ code, signal }).toEqual({ code: 0, signal: null });
}, 30_000);

const WORKER_CLI = fileURLToPath(new URL("../services/worker/src/cli.ts", import.meta.url));
const GRAPHS = fileURLToPath(new URL("./fixtures/graphs.ts", import.meta.url));

/**
 * A worker process (layover-worker) with `env` over the harness's, its stdout and stderr
 * collected; `exited` says how it exited (it is killed if it has not within 20 s).
 */
function workerCli(env: Record<string, string>) {
  const child = spawn(process.execPath, [WORKER_CLI, "--graphs", GRAPHS], {
    env: serviceEnv(h.deployment, env),
    stdio: ["ignore", "pipe", "pipe"],
  });
  const collected = { output: "", stderr: "" };
  child.stdout?.on("data", (chunk: Buffer) => {
    collected.output += chunk.toString();
  });
  child.stderr?.on("data", (chunk: Buffer) => {
    collected.stderr += chunk.toString();
  });
  const exited = once(child, "exit").then(([code, signal]) => ({ code, signal }));
  const guard = setTimeout(() => child.kill("SIGKILL"), 20_000);
  void exited.then(() => clearTimeout(guard));
  /** Resolves once stdout holds `text`; throws if the process exits first. */
  const saying = async (text: string) => {
    while (!collected.output.includes(text)) {
      if (child.exitCode !== null)
        throw new Error(`the worker exited:\n${collected.output}${collected.stderr}`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  };
  return { child, collected, exited, saying };
}

/** A worker process started and taking jobs. */
async function startedWorkerCli(env: Record<string, string>) {
  const worker = workerCli(env);
  await worker.saying("worker started");
  return worker;
}

/** A worker process whose Redis goes away once it has started; resolves with how it exited. */
async function workerLosingRedis(signals: NodeJS.Signals[], shutdownTimeoutMs: number) {
  const proxy = await tcpProxy(h.redisUrl);
  const { child, collected, exited } = await startedWorkerCli({
    REDIS_URL: proxy.url,
    WORKER_ID: "losing-redis",
    SHUTDOWN_TIMEOUT_MS: String(shutdownTimeoutMs),
  });
  proxy.cut();
  await new Promise((resolve) => setTimeout(resolve, 300));
  const sent = Date.now();
  for (const signal of signals) {
    child.kill(signal);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  const { code, signal } = await exited;
  await proxy.close();
  return { code, signal, afterMs: Date.now() - sent, output: collected.output };
}

it("a worker whose Redis is gone exits 1 once SHUTDOWN_TIMEOUT_MS has passed after SIGTERM", async () => {
  const exit = await workerLosingRedis(["SIGTERM"], 1_500);
  expect({ code: exit.code, signal: exit.signal }).toEqual({ code: 1, signal: null });
  expect(exit.afterMs).toBeGreaterThanOrEqual(1_400);
  expect(exit.afterMs).toBeLessThan(10_000);
  expect(exit.output).toContain("shutdown did not finish in time");
}, 30_000);

it("a second signal ends a shutdown that waits, at once", async () => {
  const exit = await workerLosingRedis(["SIGTERM", "SIGINT"], 60_000);
  expect({ code: exit.code, signal: exit.signal }).toEqual({ code: 1, signal: null });
  expect(exit.afterMs).toBeLessThan(10_000);
  expect(exit.output).toContain("second signal");
}, 30_000);

it("an error nothing caught is logged as JSON, and the worker closes and exits 1", async () => {
  const { collected, exited } = await startedWorkerCli({
    WORKER_ID: "forgetful",
    SHUTDOWN_TIMEOUT_MS: "20000",
    METRICS_PORT: "0",
  });
  // A metrics port picked by the system (METRICS_PORT=0) is said where the worker says it started.
  const started = collected.output.split("\n").find((line) => line.includes("worker started")) as string;
  const { metricsPort } = JSON.parse(started) as { metricsPort: number };
  expect((await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).status).toBe(200);
  const { runId } = await h.client.runs.start({ graphId: "forgetful", input: {} });
  expect(await h.client.runs.wait(runId, { timeoutMs: 10_000 })).toMatchObject({
    status: "success",
    values: { sent: true },
  });
  expect(await exited).toEqual({ code: 1, signal: null });
  const lines = collected.output
    .trim()
    .split("\n")
    .map((line) => JSON.parse(line) as { level: number; msg: string; err?: { message: string } });
  const fatal = lines.findIndex((line) => line.level === 60);
  expect(lines[fatal], collected.output).toMatchObject({
    msg: "uncaught error: shutting down",
    err: { message: "mail server refused" },
  });
  // It closed as on SIGTERM, and the process exited once its last line was written.
  expect(lines.at(-1)?.msg, collected.output).toBe("worker stopped");
}, 30_000);

it("a worker whose Redis never answers fails its start with the reason and exits 1", async () => {
  const { collected, exited } = workerCli({
    REDIS_URL: "redis://127.0.0.1:1",
    REDIS_START_TIMEOUT_MS: "1500",
  });
  expect(await exited).toEqual({ code: 1, signal: null });
  expect(collected.stderr).toContain("Redis at 127.0.0.1:1 did not answer within 1.5 s. Check REDIS_URL");
}, 30_000);

it("a worker whose Postgres is not there waits as long as asked, saying so, then exits 1 naming where it looked", async () => {
  const { collected, exited } = workerCli({
    DATABASE_URL: "postgres://postgres:s3cret@127.0.0.1:1/orders",
    POSTGRES_START_TIMEOUT_MS: "1500",
  });
  expect(await exited).toEqual({ code: 1, signal: null });
  expect(collected.stderr).toContain("Postgres at 127.0.0.1:1/orders could not be reached within 1.5 s");
  expect(collected.stderr).toContain("Check DATABASE_URL");
  expect(collected.output).toContain('"msg":"Postgres not reachable yet; retrying"');
  expect(collected.stderr + collected.output).not.toContain("s3cret");
}, 30_000);

it("a worker stopped while its start still waits for Redis exits 1, not 0, saying why", async () => {
  const { child, exited, saying, collected } = workerCli({
    REDIS_URL: "redis://127.0.0.1:1",
    REDIS_START_TIMEOUT_MS: "15000",
  });
  // Its start is under way (the signal handlers are in place) once it says Redis is unreachable.
  await saying("Redis unreachable");
  child.kill("SIGTERM");
  expect(await exited).toEqual({ code: 1, signal: null });
  expect(collected.output).toMatch(/"level":40,.*"workerId":"[^"]+".*stopped before its start finished/);
}, 30_000);
