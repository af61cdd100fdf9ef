import { unknownKeysProblem } from "@layover/checkpoint";
import pg from "pg";
import { PostgresSaverError } from "./errors.ts";
import type { RetryOptions } from "./retry.ts";
import { DEFAULT_SCHEMA, quoteSchema } from "./schema-name.ts";

const guarded = new WeakSet<pg.Pool>();

/**
 * A connection lost while idle makes the pool emit "error", and one lost mid-query can make
 * its client emit "error" more than once; with no listener either would crash the process.
 * The failure still reaches the query (which is retried) and the pool drops the client.
 */
export function guardConnectionErrors(pool: pg.Pool): void {
  if (guarded.has(pool)) return;
  guarded.add(pool);
  if (pool.listenerCount("error") === 0) pool.on("error", () => {});
  pool.on("connect", (client) => {
    client.on("error", () => {});
  });
}

/** Where a saver or store gets its connections: a pool it was given, or one it builds and owns. */
export interface PoolSource {
  pool?: pg.Pool | undefined;
  connectionString?: string | undefined;
  maxConnections?: number | undefined;
}

/**
 * LangGraph's `fromConnString(url, options)`: `options` with the connection string, checked. The
 * string itself is never quoted back (it may hold a password).
 */
export function connStringOptions<T extends PoolSource>(
  who: string,
  connString: unknown,
  options: T | undefined,
): T & { connectionString: string } {
  if (typeof connString !== "string" || connString.trim() === "")
    throw new PostgresSaverError(
      "INVALID_SAVER_INPUT",
      `${who}.fromConnString takes a Postgres connection string such as "postgres://user@host:5432/db"; ` +
        `got ${typeof connString === "string" ? "an empty string" : connString === null ? "null" : typeof connString}.`,
    );
  if (options !== undefined) checkOptionsObject(who, options);
  for (const key of ["pool", "connectionString"] as const)
    if (options?.[key] !== undefined)
      throw new PostgresSaverError(
        "INVALID_SAVER_INPUT",
        `${who}.fromConnString takes the connection string as its first argument, not \`${key}\` in its options: ` +
          `give one or use new ${who}({ ${key} }).`,
      );
  return { ...(options as T), connectionString: connString };
}

/**
 * Refuses what is not `who`'s options object: none at all, or a pool given bare (LangGraph's
 * savers take the pool itself; its own fields would be named as unknown options).
 */
export function checkOptionsObject(who: string, source: unknown): void {
  if (typeof source !== "object" || source === null)
    throw new PostgresSaverError(
      "INVALID_SAVER_INPUT",
      `${who} takes its options: new ${who}({ pool }) or new ${who}({ connectionString }); got ${source === null ? "null" : typeof source}.`,
    );
  if (source instanceof pg.Pool)
    throw new PostgresSaverError(
      "INVALID_SAVER_INPUT",
      `${who} takes its pool as an option: new ${who}({ pool }), not new ${who}(pool).`,
    );
}

/**
 * The pool `who` (PostgresSaver, PostgresStore) uses, guarded against connection errors, and
 * whether `who` built it (and so ends it on close).
 */
export function poolFor(
  who: string,
  source: PoolSource,
  options: readonly string[],
): { pool: pg.Pool; owned: boolean } {
  checkOptionsObject(who, source);
  // A misspelt option (`shema`) would go to its default: another schema's tables, say.
  const unknown = unknownKeysProblem(who, source, options);
  if (unknown !== undefined) throw new PostgresSaverError("INVALID_SAVER_INPUT", unknown);
  let pool = source.pool;
  const owned = pool === undefined;
  if (pool === undefined) {
    if (source.connectionString === undefined) {
      throw new PostgresSaverError(
        "INVALID_SAVER_INPUT",
        `${who} needs a \`pool\` or a \`connectionString\`.`,
      );
    }
    pool = new pg.Pool({ connectionString: source.connectionString, max: source.maxConnections ?? 10 });
  }
  guardConnectionErrors(pool);
  return { pool, owned };
}

/**
 * Where a store or cache (PostgresStore, PostgresCache) keeps its rows: its pool (see poolFor),
 * its schema (and the schema quoted for SQL) and its retry options.
 */
export interface PostgresHome {
  pool: pg.Pool;
  owned: boolean;
  schema: string;
  quoted: string;
  retry: RetryOptions;
}

export function postgresHome(
  who: string,
  options: PoolSource & { schema?: string | undefined; retry?: RetryOptions | undefined },
  keys: readonly string[],
): PostgresHome {
  const schema = options.schema ?? DEFAULT_SCHEMA;
  const quoted = quoteSchema(schema); // refuses a bad name before a pool is built
  return { ...poolFor(who, options, keys), schema, quoted, retry: options.retry ?? {} };
}
