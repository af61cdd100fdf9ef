// The scheduler's configuration: the environment, checked at start-up (a mistake names the
// variable and stops the service before it connects to anything).
import { JobLockEnv, parseEnv, ServiceEnv, timerMs } from "@layover/runtime";
import { z } from "zod";

/** The longest thread TTL: a century (a longer one gives no date to prune before). */
export const MAX_THREAD_TTL_MS = 100 * 365 * 24 * 3_600_000;

export const SchedulerEnv = ServiceEnv.extend({
  SWEEP_EVERY_MS: timerMs(1).default(2_000),
  SWEEP_BATCH_SIZE: z.coerce.number().int().positive().default(1_000),
  RECONCILE_EVERY_MS: timerMs(1).default(15_000),
  /** Finished threads untouched this long are deleted; unset: kept. Not a timer: days are fine. */
  THREAD_TTL_MS: z.coerce
    .number()
    .int()
    .positive("a duration in milliseconds above 0 (unset keeps threads)")
    .max(MAX_THREAD_TTL_MS, `at most ${MAX_THREAD_TTL_MS} ms (a century)`)
    .optional(),
  PRUNE_THREADS_EVERY_MS: timerMs(1).default(3_600_000),
  /** How often expired node cache entries are deleted (at most 10,000 a time). */
  PRUNE_CACHE_EVERY_MS: timerMs(1).default(600_000),
  SCHEDULER_ID: z.string().min(1).optional(),
  ...JobLockEnv,
  /** Log users' payloads (off: they are redacted), as the worker's. */
  LAYOVER_LOG_PAYLOADS: z
    .enum(["true", "false"])
    .default("false")
    .transform((v) => v === "true"),
});

export type SchedulerEnv = z.infer<typeof SchedulerEnv>;

/** The scheduler's environment, defaults applied; InvalidConfigError names what is wrong. */
export function parseSchedulerEnv(env: NodeJS.ProcessEnv): SchedulerEnv {
  return parseEnv(SchedulerEnv, env, "scheduler");
}
