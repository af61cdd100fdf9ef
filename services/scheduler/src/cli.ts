#!/usr/bin/env node
// layover-scheduler: expires interrupts past their deadline, re-enqueues lost work, fires cron
// runs. Configured by the environment; stops cleanly on SIGTERM/SIGINT.
import { createLogger, main, postgresTimeouts, runUntilSignalled, unreadEnvWarnings } from "@layover/runtime";
import { parseSchedulerEnv, SchedulerEnv } from "./config.ts";
import { createScheduler } from "./scheduler.ts";

main(async () => {
  const env = parseSchedulerEnv(process.env);
  const logger = createLogger({
    level: env.LOG_LEVEL,
    logPayloads: env.LAYOVER_LOG_PAYLOADS,
    name: "layover-scheduler",
  });
  for (const warning of unreadEnvWarnings("scheduler", Object.keys(SchedulerEnv.shape), process.env))
    logger.warn(warning);
  // pg_stat_activity tells the services' connections apart (pg reads PGAPPNAME; one given wins).
  process.env.PGAPPNAME ??=
    env.SCHEDULER_ID === undefined ? "layover-scheduler" : `layover-scheduler:${env.SCHEDULER_ID}`;
  const scheduler = createScheduler({
    databaseUrl: env.DATABASE_URL,
    timeouts: postgresTimeouts(env),
    redisUrl: env.REDIS_URL,
    redisStartTimeoutMs: env.REDIS_START_TIMEOUT_MS,
    postgresStartTimeoutMs: env.POSTGRES_START_TIMEOUT_MS,
    schema: env.LAYOVER_SCHEMA,
    prefix: env.LAYOVER_PREFIX,
    sweepEveryMs: env.SWEEP_EVERY_MS,
    sweepBatchSize: env.SWEEP_BATCH_SIZE,
    reconcileEveryMs: env.RECONCILE_EVERY_MS,
    ...(env.THREAD_TTL_MS !== undefined ? { threadTtlMs: env.THREAD_TTL_MS } : {}),
    pruneThreadsEveryMs: env.PRUNE_THREADS_EVERY_MS,
    pruneCacheEveryMs: env.PRUNE_CACHE_EVERY_MS,
    lockDurationMs: env.LOCK_DURATION_MS,
    stalledIntervalMs: env.STALLED_INTERVAL_MS,
    ...(env.SCHEDULER_ID ? { schedulerId: env.SCHEDULER_ID } : {}),
    ...(env.METRICS_PORT !== undefined ? { metricsPort: env.METRICS_PORT } : {}),
    logger,
  });
  // Its shutdown lines name it, as its own lines do.
  const schedulerLogger = logger.child({ schedulerId: scheduler.id });
  await runUntilSignalled(scheduler, schedulerLogger, { shutdownTimeoutMs: env.SHUTDOWN_TIMEOUT_MS });
});
