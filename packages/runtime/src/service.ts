import type { Logger } from "pino";
import { z } from "zod";
import { DEFAULT_DATABASE_URL, DEFAULT_REDIS_URL } from "./connections.ts";

/** Environment every Layover service reads: where the databases are, and how to log. */
export const ServiceEnv = z.object({
  DATABASE_URL: z.string().default(DEFAULT_DATABASE_URL),
  REDIS_URL: z.string().default(DEFAULT_REDIS_URL),
  /** Postgres schema of Layover's tables. */
  LAYOVER_SCHEMA: z
    .string()
    .regex(/^[a-z_][a-z0-9_]*$/, "lower-case letters, digits and _")
    .default("layover"),
  /** BullMQ key prefix: one per deployment. */
  LAYOVER_PREFIX: z.string().min(1).default("layover"),
  /** Serve Prometheus metrics on this port. */
  METRICS_PORT: z.coerce.number().int().min(0).max(65535).optional(),
  LOG_LEVEL: z.enum(["fatal", "error", "warn", "info", "debug", "trace", "silent"]).default("info"),
});

/** Parses `env` with `schema`; throws one error naming every bad variable. */
export function parseEnv<S extends z.ZodType>(
  schema: S,
  env: NodeJS.ProcessEnv,
  service: string,
): z.output<S> {
  const result = schema.safeParse(env);
  if (result.success) return result.data;
  const problems = result.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`);
  throw new Error(`Invalid ${service} environment:\n  ${problems.join("\n  ")}`);
}

/**
 * Runs a service until SIGTERM/SIGINT, then closes it (stop taking work, finish what runs,
 * close pools) and exits 0 — or 1 if closing failed. A failed start exits 1 with the reason.
 */
export function runUntilSignalled(
  service: { start(): Promise<void>; close(): Promise<void> },
  logger: Logger,
) {
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, "shutting down: finishing running work");
    service.close().then(
      () => process.exit(0),
      (error: unknown) => {
        logger.error({ err: error }, "shutdown failed");
        process.exit(1);
      },
    );
  };
  process.on("SIGTERM", () => stop("SIGTERM"));
  process.on("SIGINT", () => stop("SIGINT"));
  return service.start();
}

/** The entry point of a service CLI: reports a failure to start and exits 1. */
export function main(run: () => Promise<void>): void {
  run().catch((error: unknown) => {
    console.error(error instanceof Error ? error.message : error);
    process.exit(1);
  });
}
