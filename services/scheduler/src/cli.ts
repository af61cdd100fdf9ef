#!/usr/bin/env node
// layover-scheduler: expires interrupts past their deadline, re-enqueues lost work, fires cron
// runs. Configured by the environment; stops cleanly on SIGTERM/SIGINT.
import pino from "pino";
import { z } from "zod";
import { createScheduler } from "./scheduler.ts";

const Env = z.object({
  DATABASE_URL: z.string().default("postgres://postgres@127.0.0.1:5432/postgres"),
  REDIS_URL: z.string().default("redis://127.0.0.1:6379"),
  LAYOVER_SCHEMA: z
    .string()
    .regex(/^[a-z_][a-z0-9_]*$/)
    .default("layover"),
  LAYOVER_PREFIX: z.string().min(1).default("layover"),
  SWEEP_EVERY_MS: z.coerce.number().int().positive().default(2_000),
  SWEEP_BATCH_SIZE: z.coerce.number().int().positive().default(1_000),
  RECONCILE_EVERY_MS: z.coerce.number().int().positive().default(15_000),
  SCHEDULER_ID: z.string().min(1).optional(),
  METRICS_PORT: z.coerce.number().int().min(0).max(65535).optional(),
  LOG_LEVEL: z.enum(["fatal", "error", "warn", "info", "debug", "trace", "silent"]).default("info"),
});

async function main(): Promise<void> {
  const parsed = Env.safeParse(process.env);
  if (!parsed.success)
    throw new Error(
      `Invalid scheduler environment:\n  ${parsed.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`).join("\n  ")}`,
    );
  const env = parsed.data;
  const logger = pino({ name: "layover-scheduler", level: env.LOG_LEVEL });
  const scheduler = createScheduler({
    databaseUrl: env.DATABASE_URL,
    redisUrl: env.REDIS_URL,
    schema: env.LAYOVER_SCHEMA,
    prefix: env.LAYOVER_PREFIX,
    sweepEveryMs: env.SWEEP_EVERY_MS,
    sweepBatchSize: env.SWEEP_BATCH_SIZE,
    reconcileEveryMs: env.RECONCILE_EVERY_MS,
    ...(env.SCHEDULER_ID ? { schedulerId: env.SCHEDULER_ID } : {}),
    ...(env.METRICS_PORT !== undefined ? { metricsPort: env.METRICS_PORT } : {}),
    logger,
  });
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, "scheduler shutting down");
    scheduler.close().then(
      () => process.exit(0),
      (error: unknown) => {
        logger.error({ err: error }, "shutdown failed");
        process.exit(1);
      },
    );
  };
  process.on("SIGTERM", () => stop("SIGTERM"));
  process.on("SIGINT", () => stop("SIGINT"));
  await scheduler.start();
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});
