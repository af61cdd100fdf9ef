import { z } from "zod";

const positiveInt = (fallback: number) => z.coerce.number().int().positive().default(fallback);

/** The worker's environment, parsed once at start; a bad value names the variable. */
export const WorkerEnv = z.object({
  DATABASE_URL: z.string().default("postgres://postgres@127.0.0.1:5432/postgres"),
  REDIS_URL: z.string().default("redis://127.0.0.1:6379"),
  /** Postgres schema of Layover's tables. */
  LAYOVER_SCHEMA: z
    .string()
    .regex(/^[a-z_][a-z0-9_]*$/)
    .default("layover"),
  /** BullMQ key prefix: one per deployment. */
  LAYOVER_PREFIX: z.string().min(1).default("layover"),
  WORKER_ID: z.string().min(1).optional(),
  WORKER_CONCURRENCY: positiveInt(8),
  /** Supersteps a job may run in-process before it hands the thread back to the queue. */
  STEP_BUDGET_STEPS: positiveInt(16),
  /** Milliseconds a job may keep advancing its thread in-process. */
  STEP_BUDGET_MS: positiveInt(50),
  /** How long a job's lock lasts; a SIGKILLed worker's jobs move on after it. */
  LOCK_DURATION_MS: positiveInt(30_000),
  STALLED_INTERVAL_MS: positiveInt(30_000),
  /** Global default interrupt timeout in ms; unset waits forever. */
  INTERRUPT_TIMEOUT_MS: z.coerce.number().int().positive().optional(),
  /** Serve Prometheus metrics on this port. */
  METRICS_PORT: z.coerce.number().int().min(0).max(65535).optional(),
  LOG_LEVEL: z.enum(["fatal", "error", "warn", "info", "debug", "trace", "silent"]).default("info"),
  /** Log users' state and resume payloads (off: they are redacted). */
  LAYOVER_LOG_PAYLOADS: z
    .enum(["true", "false"])
    .default("false")
    .transform((v) => v === "true"),
});
export type WorkerEnv = z.infer<typeof WorkerEnv>;

/** Parses the environment; throws an error listing every bad variable. */
export function parseWorkerEnv(env: NodeJS.ProcessEnv): WorkerEnv {
  const result = WorkerEnv.safeParse(env);
  if (result.success) return result.data;
  const problems = result.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`);
  throw new Error(`Invalid worker environment:\n  ${problems.join("\n  ")}`);
}
