import { MAX_DURATION_MS } from "@layover/graph";
import { JobLockEnv, parseEnv, ServiceEnv, timerMs } from "@layover/runtime";
import { z } from "zod";

const positiveInt = (fallback: number, max = Number.MAX_SAFE_INTEGER) =>
  z.coerce.number().int().positive().max(max).default(fallback);

/** The worker's environment, parsed once at start; a bad value names the variable. */
export const WorkerEnv = ServiceEnv.extend({
  WORKER_ID: z.string().min(1).optional(),
  /** Jobs at once; each holds a Postgres connection (the pool is this + 2). */
  WORKER_CONCURRENCY: positiveInt(8, 1_000),
  /** Connections the jobs' statements go out pipelined on (see WorkerOptions.postgresLanes); 0: none. */
  WORKER_POSTGRES_LANES: z.coerce.number().int().nonnegative().max(64).default(2),
  /** Supersteps a job may run in-process before it hands the thread back to the queue. */
  STEP_BUDGET_STEPS: positiveInt(16),
  /** Milliseconds a job may keep advancing its thread in-process. */
  STEP_BUDGET_MS: timerMs(1).default(250),
  /** A job still busy after this many ms shows its run as running (a quicker one goes straight to its result). */
  MARK_RUNNING_AFTER_MS: timerMs().default(50),
  ...JobLockEnv,
  /** The most a run event carries of a settled run's state and interrupts (bytes); 0: status alone. */
  RUN_EVENT_RESULT_BYTES: z.coerce
    .number()
    .int()
    .nonnegative()
    .max(64 * 1024 * 1024)
    .default(65_536),
  /** How often the worker says again which version of its graphs it serves (see WorkerOptions.registerEveryMs). */
  REGISTER_EVERY_MS: timerMs(1_000).default(30_000),
  /** Global default interrupt timeout in ms; unset waits forever. */
  INTERRUPT_TIMEOUT_MS: z.coerce
    .number()
    .int()
    .positive()
    .max(MAX_DURATION_MS, `at most ${MAX_DURATION_MS} ms (a century)`)
    .optional(),
  /** Log users' state and resume payloads (off: they are redacted). */
  LAYOVER_LOG_PAYLOADS: z
    .enum(["true", "false"])
    .default("false")
    .transform((v) => v === "true"),
});
export type WorkerEnv = z.infer<typeof WorkerEnv>;

/** Parses the environment; throws an error listing every bad variable. */
export function parseWorkerEnv(env: NodeJS.ProcessEnv): WorkerEnv {
  return parseEnv(WorkerEnv, env, "worker");
}
