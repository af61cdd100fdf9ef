import {
  BaseCache,
  type CacheEntry,
  type CacheFullKey,
  checkCacheEntries,
  checkCacheKey,
  InvalidCacheOperationError,
  jsonSerializer,
  unstorableText,
} from "@layover/checkpoint";
import type pg from "pg";
import { CACHE_OPTIONS, type PostgresCacheOptions } from "./cache-options.ts";
import { PostgresSaverError } from "./errors.ts";
import { type MigrateResult, migrate } from "./migrate.ts";
import { postgresHome } from "./pool.ts";
import { type RetryOptions, withRetry } from "./retry.ts";
import { statementName } from "./schema-name.ts";
import { cacheClearAllSql, cacheClearSql, cacheGetSql, cachePruneSql, cacheSetSql } from "./sql/cache.ts";

/** How many expired entries one `pruneExpired` deletes when not told. */
const DEFAULT_PRUNE_LIMIT = 10_000;

interface EntryRow {
  ns: string;
  key: string;
  value: string;
}

/** A namespace as the `ns` column holds it: its labels as JSON text, compared whole. */
const nsText = (namespace: readonly string[]) => JSON.stringify(namespace);

/**
 * Refuses a key Postgres text cannot hold: a NUL (Postgres refuses it) or half a surrogate pair
 * (the driver would send U+FFFD, so two keys would meet). Only the key needs this: namespaces and
 * values are stored as JSON text, where JSON.stringify writes both as `\u` escapes.
 */
function checkStorableKey([, key]: CacheFullKey): void {
  const found = unstorableText(key);
  if (found === undefined) return;
  const holds = found.holds === "nul" ? "a NUL character (\\u0000)" : "half a surrogate pair";
  throw new InvalidCacheOperationError(
    `The cache key ${JSON.stringify(key)} holds ${holds}, which Postgres cannot store.`,
  );
}

/** Refuses a namespace of `clear` that is not a list of strings. */
function checkNamespace(namespace: unknown): void {
  if (!Array.isArray(namespace) || namespace.some((label) => typeof label !== "string"))
    throw new InvalidCacheOperationError(
      `clear takes namespaces, each a list of strings; got ${JSON.stringify(namespace) ?? String(namespace)}.`,
    );
}

/**
 * The set statement's parameters: one row per (namespace, key), the last of the call winning,
 * in one order every caller uses (so concurrent sets lock shared rows in the same order).
 */
function setParams(entries: readonly CacheEntry[], texts: readonly string[]): unknown[] {
  const rows = new Map<string, [ns: string, key: string, value: string, ttl: number | null]>();
  entries.forEach(({ key: [namespace, key], ttl }, i) => {
    const ns = nsText(namespace);
    // Neither part holds a raw NUL (JSON escapes it; keys are checked): the place is unambiguous.
    rows.set(`${ns}\u0000${key}`, [ns, key, texts[i] as string, ttl ?? null]);
  });
  const sorted = [...rows.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([, row]) => row);
  return [0, 1, 2, 3].map((column) => sorted.map((row) => row[column]));
}

/**
 * Layover's node cache in Postgres (LangGraph's BaseCache, with InMemoryCache's rules): entries
 * in the `cache_entries` table that `migrate()` creates beside the checkpoint tables, shared by
 * every worker on the schema. Values are stored as the checkpoint serializer writes them, so a
 * hit is a copy of the same types that were set. Each call is one autocommit statement, however
 * many keys it carries (sql/cache.ts), and expiry is judged by the server's clock. Expired
 * entries are never returned; `pruneExpired` deletes them (the scheduler calls it). Calls are
 * checked whole before anything is sent; transient failures are retried with jittered backoff
 * (every call is idempotent); everything else surfaces as a PostgresSaverError, as the store's do.
 */
export class PostgresCache extends BaseCache {
  readonly pool: pg.Pool;
  readonly schema: string;
  private readonly ownsPool: boolean;
  private readonly retry: RetryOptions;
  private readonly quoted: string;

  constructor(options: PostgresCacheOptions) {
    super();
    ({
      pool: this.pool,
      owned: this.ownsPool,
      schema: this.schema,
      quoted: this.quoted,
      retry: this.retry,
    } = postgresHome("PostgresCache", options, CACHE_OPTIONS));
  }

  /** Creates or upgrades the tables (see `migrate`). Safe to call from many processes at once. */
  setup(): Promise<MigrateResult> {
    return migrate(this.pool, { schema: this.schema, retry: this.retry });
  }

  /** Ends the pool when the cache built it from a connection string; a given pool is left open. */
  async close(): Promise<void> {
    if (this.ownsPool) await this.pool.end();
  }

  /** The live entries of `keys`, in no particular order; one statement (a prepared one) for all. */
  async get(keys: CacheFullKey[]): Promise<Array<{ key: CacheFullKey; value: unknown }>> {
    for (const key of keys) {
      checkCacheKey(key);
      checkStorableKey(key);
    }
    if (keys.length === 0) return [];
    const statement = {
      name: statementName("cache_get", this.schema),
      text: cacheGetSql(this.quoted),
      values: [keys.map(([namespace]) => nsText(namespace)), keys.map(([, key]) => key)],
    };
    const { rows } = await withRetry("cache get", this.retry, () => this.pool.query<EntryRow>(statement));
    return rows.map((row) => ({
      key: [JSON.parse(row.ns) as string[], row.key],
      value: jsonSerializer.loads(row.value),
    }));
  }

  /**
   * Stores the entries in one statement (a prepared one), replacing those under the same keys;
   * of two in the call the last wins. Every entry is checked and every value serialized first:
   * a refused one (NotSerializableError, InvalidCacheOperationError) leaves the cache as it was.
   */
  async set(entries: CacheEntry[]): Promise<void> {
    checkCacheEntries(entries);
    for (const { key } of entries) checkStorableKey(key);
    const texts = entries.map((entry) => jsonSerializer.dumps(entry.value));
    if (entries.length === 0) return;
    const statement = {
      name: statementName("cache_set", this.schema),
      text: cacheSetSql(this.quoted),
      values: setParams(entries, texts),
    };
    await withRetry("cache set", this.retry, () => this.pool.query(statement));
  }

  /**
   * Deletes every entry of each namespace given — exactly that namespace, not those below it —
   * in one statement; given none (or an empty list, as LangGraph's caches), every entry.
   */
  async clear(namespaces: string[][] = []): Promise<void> {
    for (const namespace of namespaces) checkNamespace(namespace);
    const statement =
      namespaces.length === 0
        ? { text: cacheClearAllSql(this.quoted), values: [] }
        : { text: cacheClearSql(this.quoted), values: [namespaces.map(nsText)] };
    await withRetry("cache clear", this.retry, () => this.pool.query(statement));
  }

  /**
   * Deletes up to `limit` expired entries (the longest expired first) in one statement and says
   * how many it deleted: the scheduler calls it until it deletes fewer than `limit`. Entries held
   * by a concurrent set or prune are left for the next call.
   */
  async pruneExpired(options: { limit?: number } = {}): Promise<number> {
    const limit = options.limit ?? DEFAULT_PRUNE_LIMIT;
    if (!Number.isSafeInteger(limit) || limit <= 0) {
      throw new PostgresSaverError(
        "INVALID_SAVER_INPUT",
        `pruneExpired's limit is a whole number above 0; got ${String(limit)}.`,
      );
    }
    const statement = { text: cachePruneSql(this.quoted), values: [limit] };
    const result = await withRetry("cache prune", this.retry, () => this.pool.query(statement));
    return result.rowCount ?? 0;
  }
}
