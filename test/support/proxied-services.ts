// Worker and scheduler processes whose Redis is reached through a TCP proxy the test can cut or
// silence, their log lines kept for the test to read.
import { type ChildProcess, spawn } from "node:child_process";
import { once } from "node:events";
import { fileURLToPath } from "node:url";
import { type Deployment, serviceEnv } from "@layover/testing";

const WORKER_CLI = fileURLToPath(new URL("../../services/worker/src/cli.ts", import.meta.url));
const SCHEDULER_CLI = fileURLToPath(new URL("../../services/scheduler/src/cli.ts", import.meta.url));
const GRAPHS = fileURLToPath(new URL("../fixtures/graphs.ts", import.meta.url));

export interface Service {
  child: ChildProcess;
  /** The service's pino lines so far, parsed. */
  lines: Array<Record<string, unknown>>;
  /** Whether the process is still running. */
  alive(): boolean;
  stop(): Promise<void>;
}

async function spawnService(
  args: string[],
  deployment: Deployment,
  env: Record<string, string>,
  startedLine: string,
): Promise<Service> {
  const child = spawn(process.execPath, args, {
    env: serviceEnv(deployment, { LOG_LEVEL: "info", ...env }),
    stdio: ["ignore", "pipe", "inherit"],
  });
  const lines: Array<Record<string, unknown>> = [];
  let buffer = "";
  let resolveStarted: () => void = () => {};
  const started = new Promise<void>((resolve) => {
    resolveStarted = resolve;
  });
  child.stdout?.on("data", (chunk: Buffer) => {
    buffer += chunk.toString();
    const parts = buffer.split("\n");
    buffer = parts.pop() ?? "";
    for (const part of parts) {
      try {
        const line = JSON.parse(part) as Record<string, unknown>;
        lines.push(line);
        if (line.msg === startedLine) resolveStarted();
      } catch {
        lines.push({ msg: part });
      }
    }
  });
  const exited = once(child, "exit").then(([code]) => {
    throw new Error(`${args[0]} exited (${code}) before "${startedLine}"`);
  });
  await Promise.race([started, exited]);
  exited.catch(() => undefined);
  return {
    child,
    lines,
    alive: () => child.exitCode === null && child.signalCode === null,
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const done = once(child, "exit");
      child.kill("SIGTERM");
      await done;
    },
  };
}

/** A layover-worker process serving the test fixtures' graphs, with short locks (recovery in seconds). */
export function spawnProxiedWorker(deployment: Deployment, id: string, env: Record<string, string> = {}) {
  return spawnService(
    [WORKER_CLI, "--graphs", GRAPHS],
    deployment,
    { WORKER_ID: id, LOCK_DURATION_MS: "2000", STALLED_INTERVAL_MS: "1000", ...env },
    "worker started",
  );
}

/** A layover-scheduler process that sweeps every 200 ms and reconciles every second. */
export function spawnProxiedScheduler(deployment: Deployment, id: string, env: Record<string, string> = {}) {
  return spawnService(
    [SCHEDULER_CLI],
    deployment,
    { SCHEDULER_ID: id, SWEEP_EVERY_MS: "200", RECONCILE_EVERY_MS: "1000", ...env },
    "scheduler started",
  );
}
