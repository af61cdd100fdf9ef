// The soak's service processes: worker and scheduler replicas spawned as real processes, whose
// pino lines are counted by level (and errors kept) as they come, and which faults kill, freeze
// and replace.
import { type ChildProcess, spawn } from "node:child_process";
import { once } from "node:events";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { type Deployment, serviceEnv } from "@layover/testing";
import { stopWorkers } from "../support/worker-processes.ts";

export type ServiceKind = "worker" | "scheduler";

/** A pino line at error or above, as logged. */
export interface ErrorLine {
  process: string;
  level: number;
  msg: string;
  err?: string;
  at: number;
}

export interface ServiceProcess {
  /** worker-1, scheduler-2…: the replica's slot. */
  slot: string;
  kind: ServiceKind;
  /** WORKER_ID / SCHEDULER_ID of this incarnation (the slot and how many times it was started). */
  id: string;
  child: ChildProcess;
  /** Resolves once it logged that it started. */
  started: Promise<void>;
}

export interface LogTally {
  /** Process id (WORKER_ID / SCHEDULER_ID) → pino level name → lines. */
  levels: Map<string, Map<string, number>>;
  errors: ErrorLine[];
  /** Warning messages → lines, across processes. */
  warnings: Map<string, number>;
}

const WORKER_CLI = fileURLToPath(new URL("./cli.ts", import.meta.resolve("@layover/worker")));
const SCHEDULER_CLI = fileURLToPath(new URL("../../services/scheduler/src/cli.ts", import.meta.url));
const GRAPHS = fileURLToPath(new URL("./graphs.ts", import.meta.url));
const LEVELS: Record<number, string> = {
  10: "trace",
  20: "debug",
  30: "info",
  40: "warn",
  50: "error",
  60: "fatal",
};

/**
 * Short locks and stall checks, so a killed or frozen replica's jobs move on within seconds; a
 * quick sweep and reconciliation, so expiries and lost work are dealt with within the soak.
 */
export const SERVICE_TIMINGS = {
  LOCK_DURATION_MS: "2500",
  STALLED_INTERVAL_MS: "1500",
  SWEEP_EVERY_MS: "500",
  RECONCILE_EVERY_MS: "3000",
};

function command(kind: ServiceKind, id: string): { args: string[]; env: Record<string, string> } {
  const common = {
    LOCK_DURATION_MS: SERVICE_TIMINGS.LOCK_DURATION_MS,
    STALLED_INTERVAL_MS: SERVICE_TIMINGS.STALLED_INTERVAL_MS,
    LOG_LEVEL: "info",
  };
  if (kind === "worker")
    return {
      args: [WORKER_CLI, "--graphs", GRAPHS],
      env: { ...common, WORKER_ID: id, WORKER_CONCURRENCY: "8" },
    };
  return {
    args: [SCHEDULER_CLI],
    env: {
      ...common,
      SCHEDULER_ID: id,
      SWEEP_EVERY_MS: SERVICE_TIMINGS.SWEEP_EVERY_MS,
      RECONCILE_EVERY_MS: SERVICE_TIMINGS.RECONCILE_EVERY_MS,
    },
  };
}

/** Counts `child`'s pino lines into `tally` under `id`; resolves `started` at its start line. */
function tallyLines(child: ChildProcess, id: string, tally: LogTally, onStarted: () => void): void {
  const levels = new Map<string, number>();
  tally.levels.set(id, levels);
  const lines = createInterface({ input: child.stdout as NodeJS.ReadableStream });
  lines.on("line", (line) => {
    let parsed: { level?: number; msg?: string; err?: { message?: string } };
    try {
      parsed = JSON.parse(line);
    } catch {
      levels.set("unparsed", (levels.get("unparsed") ?? 0) + 1);
      return;
    }
    const level = parsed.level ?? 0;
    const name = LEVELS[level] ?? String(level);
    levels.set(name, (levels.get(name) ?? 0) + 1);
    if (parsed.msg === "worker started" || parsed.msg === "scheduler started") onStarted();
    if (level === 40)
      tally.warnings.set(String(parsed.msg), (tally.warnings.get(String(parsed.msg)) ?? 0) + 1);
    if (level >= 50) {
      const err = parsed.err?.message;
      tally.errors.push({
        process: id,
        level,
        msg: String(parsed.msg),
        at: Date.now(),
        ...(err ? { err } : {}),
      });
    }
  });
}

/** Spawns one replica in its own process group (a Ctrl-C reaches only the soak, which stops it). */
export function spawnService(
  deployment: Deployment,
  kind: ServiceKind,
  slot: string,
  id: string,
  tally: LogTally,
): ServiceProcess {
  const { args, env } = command(kind, id);
  const child = spawn(process.execPath, args, {
    env: serviceEnv(deployment, env),
    stdio: ["ignore", "pipe", "pipe"],
    detached: true,
  });
  let markStarted = () => {};
  const started = new Promise<void>((resolve, reject) => {
    markStarted = resolve;
    once(child, "exit").then(([code, signal]) =>
      reject(new Error(`${id} exited (${code ?? signal}) before it started`)),
    );
  });
  started.catch(() => {});
  tallyLines(child, id, tally, markStarted);
  // stderr: Node's own warnings, or a crash before pino; counted as lines of their own.
  createInterface({ input: child.stderr as NodeJS.ReadableStream }).on("line", (line) => {
    tally.errors.push({ process: id, level: 0, msg: `stderr: ${line}`, at: Date.now() });
  });
  return { slot, kind, id, child, started };
}

/** SIGKILL, for the faults; resolves once the process is gone. */
export async function killService(service: ServiceProcess): Promise<void> {
  if (service.child.exitCode !== null || service.child.signalCode !== null) return;
  const exited = once(service.child, "exit");
  service.child.kill("SIGCONT");
  service.child.kill("SIGKILL");
  await exited;
}

/** SIGTERM each (SIGCONT first, in case one is frozen), SIGKILL after 10 s. */
export async function stopServices(services: ServiceProcess[]): Promise<void> {
  for (const service of services) service.child.kill("SIGCONT");
  await stopWorkers(services.map((service) => service.child));
}
