import { LayoverError } from "@layover/checkpoint";
import type { Logger } from "pino";
import { z } from "zod";
import {
  DEFAULT_DATABASE_URL,
  DEFAULT_REDIS_URL,
  type PostgresTimeouts,
  timeoutsProblem,
} from "./connections.ts";
import { InvalidConfigError } from "./errors.ts";
import { prefixProblem } from "./keys.ts";

/** The longest a Node timer waits: a longer one fires after 1 ms. */
export const MAX_TIMER_MS = 2_147_483_647;

/** Milliseconds a timer waits (from `min`): at most MAX_TIMER_MS. */
export function timerMs(min = 0) {
  return z.coerce
    .number()
    .int()
    .min(min)
    .max(MAX_TIMER_MS, `at most ${MAX_TIMER_MS} ms (about 24.8 days): Node's timers cannot wait longer`);
}

/**
 * A connection URL with one of `protocols`, or a Unix socket's path when `socketPath` (a typo
 * such as `redis//host` or `host:5432/db` is refused at start).
 */
function connectionUrl(protocols: readonly string[], example: string, socketPath = false) {
  return z.string().refine(
    (value) => {
      if (socketPath && value.startsWith("/")) return true;
      try {
        return protocols.includes(new URL(value).protocol);
      } catch {
        return false;
      }
    },
    { message: `a URL such as ${example} (${protocols.map((p) => `${p}//`).join(", ")})` },
  );
}

/** Environment every Layover service reads: where the databases are, and how to log. */
export const ServiceEnv = z.object({
  DATABASE_URL: connectionUrl(
    ["postgres:", "postgresql:", "socket:"],
    "postgres://user:password@host:5432/db",
  ).default(DEFAULT_DATABASE_URL),
  REDIS_URL: connectionUrl(["redis:", "rediss:"], "redis://host:6379", true).default(DEFAULT_REDIS_URL),
  /** Postgres schema of Layover's tables. */
  LAYOVER_SCHEMA: z
    .string()
    .regex(/^[a-z_][a-z0-9_]*$/, "lower-case letters, digits and _")
    .max(63, "at most 63 characters (Postgres's longest name)")
    .refine((name) => !name.startsWith("pg_"), 'not starting with "pg_" (Postgres keeps those names)')
    .default("layover"),
  /** BullMQ key prefix: one per deployment. */
  LAYOVER_PREFIX: z
    .string()
    .refine((prefix) => prefixProblem(prefix) === undefined, prefixProblem(""))
    .default("layover"),
  /** A Postgres statement unanswered this long fails its call (a job: put back until Postgres answers); 0 waits forever. */
  DATABASE_QUERY_TIMEOUT_MS: timerMs().default(60_000),
  /** Postgres's own statement_timeout (and twice it, idle_in_transaction_session_timeout); unset: 90% of the query timeout; 0: not sent (PgBouncer). */
  DATABASE_STATEMENT_TIMEOUT_MS: timerMs()
    .max(1_073_741_823, "at most 1073741823 ms: Postgres takes twice it as the idle-in-transaction timeout")
    .optional(),
  /** How long a start waits for Redis to answer before it fails (exit 1). */
  REDIS_START_TIMEOUT_MS: timerMs(1).default(20_000),
  /** How long a start waits for Postgres to accept a connection before it fails (exit 1). */
  POSTGRES_START_TIMEOUT_MS: timerMs(1).default(20_000),
  /** How long a SIGTERM waits for running work before the process exits anyway (1). */
  SHUTDOWN_TIMEOUT_MS: timerMs(1).default(30_000),
  /** Serve Prometheus metrics on this port. */
  METRICS_PORT: z.coerce.number().int().min(0).max(65535).optional(),
  LOG_LEVEL: z.enum(["fatal", "error", "warn", "info", "debug", "trace", "silent"]).default("info"),
});

/**
 * How long a BullMQ job's lock lasts, and how often stalled jobs are looked for: a SIGKILLed
 * process's jobs move on to another replica after them. The worker's and the scheduler's.
 */
export const JobLockEnv = {
  LOCK_DURATION_MS: timerMs(1_000).default(30_000),
  STALLED_INTERVAL_MS: timerMs(1_000).default(30_000),
};

/** The Postgres timeouts the environment sets (DATABASE_QUERY_TIMEOUT_MS, DATABASE_STATEMENT_TIMEOUT_MS). */
export function postgresTimeouts(env: z.output<typeof ServiceEnv>): PostgresTimeouts {
  const timeouts = {
    queryTimeoutMs: env.DATABASE_QUERY_TIMEOUT_MS,
    ...(env.DATABASE_STATEMENT_TIMEOUT_MS === undefined
      ? {}
      : { statementTimeoutMs: env.DATABASE_STATEMENT_TIMEOUT_MS }),
  };
  const names = { query: "DATABASE_QUERY_TIMEOUT_MS", statement: "DATABASE_STATEMENT_TIMEOUT_MS" };
  const problem = timeoutsProblem(timeouts, names);
  if (problem !== undefined) throw new InvalidConfigError(`${problem}.`);
  return timeouts;
}

/** Parses `env` with `schema`; throws one error naming every bad variable. An empty or blank variable is unset. */
export function parseEnv<S extends z.ZodType>(
  schema: S,
  env: NodeJS.ProcessEnv,
  service: string,
): z.output<S> {
  const result = schema.safeParse(
    Object.fromEntries(Object.entries(env).filter(([, value]) => value !== undefined && value.trim() !== "")),
  );
  if (result.success) return result.data;
  const problems = result.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`);
  throw new InvalidConfigError(`Invalid ${service} environment:\n  ${problems.join("\n  ")}`);
}

/**
 * Runs a service until SIGTERM/SIGINT, then closes it (stop taking work, finish what runs,
 * close pools) and exits 0 — or 1 if closing failed. Closing waits for Redis and Postgres: when
 * one is down it may never end, so after `shutdownTimeoutMs` (or at a second signal) the
 * process exits 1 anyway; BullMQ hands the jobs it held to another worker once their locks
 * lapse. A failed start exits 1 with the reason, and so does a signal before the start ended.
 *
 * An error nothing caught (a promise a node let go without awaiting it, a bug) ends the process
 * as Node would, with exit code 1, but it is logged first (JSON, level fatal) and the service
 * closes as on SIGTERM, so its running jobs finish or are handed back at once.
 */
export function runUntilSignalled(
  service: { start(): Promise<void>; close(): Promise<void> },
  logger: Logger,
  options: { shutdownTimeoutMs?: number } = {},
) {
  const timeoutMs = options.shutdownTimeoutMs ?? 30_000;
  const exit = (code: number) => exitAfterLogs(logger, code);
  let stopping = false;
  let started = false;
  let exitCode = 0;
  const stop = (reason: { signal: string } | { uncaught: unknown }) => {
    // Stopped before it ever took work (a start still waiting for Redis): not a clean run.
    if (!started) exitCode = 1;
    if ("uncaught" in reason) {
      exitCode = 1;
      if (stopping) {
        logger.error({ err: reason.uncaught }, "uncaught error while shutting down");
        return; // already closing: it exits 1 when done
      }
      logger.fatal({ err: reason.uncaught }, "uncaught error: shutting down");
    } else if (stopping) {
      logger.warn(reason, "second signal: exiting without finishing running work");
      exitCode = 1; // a close that ends while the logs flush exits 1 too
      exit(1);
      return;
    } else if (started) {
      logger.info({ ...reason, timeoutMs }, "shutting down: finishing running work");
    } else {
      logger.warn(
        { ...reason, timeoutMs },
        "stopped before its start finished: shutting down, then exiting 1",
      );
    }
    stopping = true;
    setTimeout(() => {
      logger.error(
        { timeoutMs },
        "shutdown did not finish in time (jobs still running, or Redis or Postgres unreachable); exiting",
      );
      exit(1);
    }, timeoutMs).unref();
    service.close().then(
      () => exit(exitCode),
      (error: unknown) => {
        logger.error({ err: error }, "shutdown failed");
        exit(1);
      },
    );
  };
  process.on("SIGTERM", () => stop({ signal: "SIGTERM" }));
  process.on("SIGINT", () => stop({ signal: "SIGINT" }));
  process.on("uncaughtException", (error) => stop({ uncaught: error }));
  process.on("unhandledRejection", (reason) => stop({ uncaught: reason }));
  return service.start().then(() => {
    started = true;
  });
}

/**
 * Exits with `code` once the logger has written what it holds: pino writes to stdout
 * asynchronously, and a bare process.exit could drop the last lines (why it stopped). Exits
 * anyway after a second if the stream cannot flush.
 */
function exitAfterLogs(logger: Logger, code: number): void {
  setTimeout(() => process.exit(code), 1_000);
  try {
    logger.flush(() => process.exit(code));
  } catch {
    process.exit(code);
  }
}

/** The entry point of a service CLI: reports a failure to start and exits 1. */
export function main(run: () => Promise<void>): void {
  run().catch((error: unknown) => {
    console.error(whyItFailed(error));
    process.exit(1);
  });
}

/**
 * What a failed start says: the message and every cause under it ("Migrating … failed" ←
 * database "nodb" does not exist), and the stack of an error that is not Layover's own (a bug
 * in a graph module), so the reason is on the screen.
 */
export function whyItFailed(error: unknown): string {
  const lines: string[] = [];
  for (let at: unknown = error, depth = 0; at !== undefined && at !== null && depth < 5; depth++) {
    if (!(at instanceof Error)) {
      lines.push(`${depth ? "caused by: " : ""}${String(at)}`);
      break;
    }
    // Layover's own errors say what to do; a bug or a broken module needs its file and line.
    const own = at instanceof LayoverError;
    lines.push(`${depth ? "caused by: " : ""}${own || depth ? at.message : (at.stack ?? at.message)}`);
    at = at.cause;
  }
  return lines.join("\n");
}
