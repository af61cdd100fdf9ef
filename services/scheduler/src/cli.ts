#!/usr/bin/env node
// layover-scheduler: expires interrupts past their deadline, re-enqueues lost work, fires cron
// runs. Configured by the environment; stops cleanly on SIGTERM/SIGINT.
import {
  createLogger,
  main,
  parseEnv,
  postgresTimeouts,
  runUntilSignalled,
  ServiceEnv,
  timerMs,
} from "@layover/runtime";
import { z } from "zod";
import { createScheduler } from "./scheduler.ts";

const SchedulerEnv = ServiceEnv.extend({
  SWEEP_EVERY_MS: timerMs(1).default(2_000),
  SWEEP_BATCH_SIZE: z.coerce.number().int().positive().default(1_000),
  RECONCILE_EVERY_MS: timerMs(1).default(15_000),
  /** Finished threads untouched this long are deleted; unset: kept. Not a timer: days are fine. */
  THREAD_TTL_MS: z.coerce.number().int().positive().optional(),
  PRUNE_THREADS_EVERY_MS: timerMs(1).default(3_600_000),
  SCHEDULER_ID: z.string().min(1).optional(),
  /** Log users' payloads (off: they are redacted), as the worker's. */
  LAYOVER_LOG_PAYLOADS: z
    .enum(["true", "false"])
    .default("false")
    .transform((v) => v === "true"),
});

main(async () => {
  const env = parseEnv(SchedulerEnv, process.env, "scheduler");
  const logger = createLogger({
    level: env.LOG_LEVEL,
    logPayloads: env.LAYOVER_LOG_PAYLOADS,
    name: "layover-scheduler",
  });
  const scheduler = createScheduler({
    databaseUrl: env.DATABASE_URL,
    timeouts: postgresTimeouts(env),
    redisUrl: env.REDIS_URL,
    redisStartTimeoutMs: env.REDIS_START_TIMEOUT_MS,
    schema: env.LAYOVER_SCHEMA,
    prefix: env.LAYOVER_PREFIX,
    sweepEveryMs: env.SWEEP_EVERY_MS,
    sweepBatchSize: env.SWEEP_BATCH_SIZE,
    reconcileEveryMs: env.RECONCILE_EVERY_MS,
    ...(env.THREAD_TTL_MS !== undefined ? { threadTtlMs: env.THREAD_TTL_MS } : {}),
    pruneThreadsEveryMs: env.PRUNE_THREADS_EVERY_MS,
    ...(env.SCHEDULER_ID ? { schedulerId: env.SCHEDULER_ID } : {}),
    ...(env.METRICS_PORT !== undefined ? { metricsPort: env.METRICS_PORT } : {}),
    logger,
  });
  await runUntilSignalled(scheduler, logger, { shutdownTimeoutMs: env.SHUTDOWN_TIMEOUT_MS });
});
