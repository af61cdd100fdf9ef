// A service's first connection to Postgres: waited for, each failed attempt logged, and a
// failure that names where it looked. A worker started before its Postgres (a compose file, a
// cluster coming up) once gave up after 3 s of refused connections, and one pointed at a host that
// swallows packets stayed silent for 84 s before an error that named neither host nor
// DATABASE_URL; a missing database was reported as a failed migration.
import { setTimeout as sleep } from "node:timers/promises";
import { classifyFailure } from "@layover/checkpoint-postgres";
import pg from "pg";
import type { Logger } from "pino";
import { DEFAULT_DATABASE_URL } from "./connections.ts";
import { InvalidConfigError } from "./errors.ts";

/** How long a service's start waits for Postgres to accept a connection before the start fails. */
export const POSTGRES_START_WAIT_MS = 20_000;

/**
 * A host not reached yet that may be soon: its name not in DNS yet (a compose or cluster service
 * being created), no route to it yet. Waited for, as a refused connection is.
 */
const UNREACHED: ReadonlySet<unknown> = new Set(["ENOTFOUND", "EAI_AGAIN", "ENETUNREACH", "EHOSTUNREACH"]);

/** The longest one connection attempt waits (as the services' pools do). */
const ATTEMPT_MS = 10_000;

/** Where `url` points, as `host:port/database` (its user and password left out). */
export function postgresWhere(url: string | undefined): string {
  const client = new pg.Client({ connectionString: url ?? DEFAULT_DATABASE_URL });
  const { host, port, database } = (
    client as unknown as { connectionParameters: { host: string; port: number; database: string } }
  ).connectionParameters;
  return `${host}:${port}/${database}`;
}

/** One connection to `url` within `ms`: undefined once it opened (it is closed again), else why not. */
async function connectOnce(url: string, ms: number): Promise<unknown> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: Math.max(1, ms) });
  client.on("error", () => undefined); // a connection that fails after the attempt: nothing to do
  try {
    await client.connect();
    await client.end();
    return undefined;
  } catch (error) {
    client.end().catch(() => undefined);
    return error;
  }
}

/** A failed connection's reason: its message, or its code (an AggregateError of two addresses has no message). */
function reasonOf(error: unknown): string {
  const { message, code } = (error ?? {}) as { message?: unknown; code?: unknown };
  if (typeof message === "string" && message !== "") return message;
  return typeof code === "string" ? code : String(error);
}

/**
 * Waits up to `ms` for Postgres at `url` to accept a connection, logging each failed attempt at
 * warn, then fails with InvalidConfigError naming where it looked and DATABASE_URL. A refusal
 * no wait mends (no such database or role, a wrong password) fails at once.
 */
export async function requirePostgres(
  url: string | undefined,
  ms = POSTGRES_START_WAIT_MS,
  logger?: Logger,
): Promise<void> {
  const where = postgresWhere(url);
  const deadline = Date.now() + ms;
  for (let attempt = 1; ; attempt++) {
    const error = await connectOnce(url ?? DEFAULT_DATABASE_URL, Math.min(ATTEMPT_MS, deadline - Date.now()));
    if (error === undefined) return;
    const reason = reasonOf(error);
    if (classifyFailure(error) !== "transient" && !UNREACHED.has((error as { code?: unknown }).code))
      throw new InvalidConfigError(
        `Postgres at ${where} refused the connection: ${reason}. Check DATABASE_URL (its user, password and database).`,
        { cause: error },
      );
    const pause = Math.min(500 * attempt, deadline - Date.now());
    if (pause <= 0)
      throw new InvalidConfigError(
        `Postgres at ${where} could not be reached within ${ms / 1000} s (${attempt} attempt${attempt === 1 ? "" : "s"}; the last: ${reason}). Check DATABASE_URL and that Postgres is running and reachable from here.`,
        { cause: error },
      );
    logger?.warn({ postgres: where, attempt, reason }, "Postgres not reachable yet; retrying");
    await sleep(pause);
  }
}
