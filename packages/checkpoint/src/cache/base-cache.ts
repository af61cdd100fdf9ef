// The node cache's contract, as LangGraph's BaseCache: entries under a namespace and a key,
// each holding a value (a task's writes) until its time to live passes. A cache is shared by the
// runs that use it: workers share one in Postgres (PostgresCache), a process one in memory.
import { LayoverError } from "../errors.ts";

/** Where an entry is: its namespace (a path of labels) and its key. */
export type CacheFullKey = [namespace: string[], key: string];

export interface CacheEntry {
  key: CacheFullKey;
  value: unknown;
  /** Seconds the entry is kept; undefined: until cleared. */
  ttl?: number | undefined;
}

/** A namespace, key or time to live a cache cannot take. */
export class InvalidCacheOperationError extends LayoverError<"INVALID_CACHE_OPERATION"> {
  constructor(message: string) {
    super("INVALID_CACHE_OPERATION", message);
  }
}

/** Whether `value` is a cache: an object with get, set and clear, as LangGraph's BaseCache. */
export function isCache(value: unknown): value is BaseCache {
  const cache = value as { get?: unknown; set?: unknown; clear?: unknown } | null | undefined;
  return (
    typeof cache?.get === "function" && typeof cache.set === "function" && typeof cache.clear === "function"
  );
}

export abstract class BaseCache {
  /** The entries found (and not expired) of `keys`, in no particular order; missing ones are left out. */
  abstract get(keys: CacheFullKey[]): Promise<Array<{ key: CacheFullKey; value: unknown }>>;
  /** Stores each entry, replacing one under the same namespace and key; the last of two in one call wins. */
  abstract set(entries: CacheEntry[]): Promise<void>;
  /** Removes every entry of each namespace given (exactly that namespace); none given: every entry. */
  abstract clear(namespaces?: string[][]): Promise<void>;
}

/** Refuses entries a cache cannot hold, before anything is stored. */
export function checkCacheEntries(entries: readonly CacheEntry[]): void {
  for (const { key, ttl } of entries) {
    checkCacheKey(key);
    if (ttl !== undefined && (typeof ttl !== "number" || !Number.isFinite(ttl) || ttl <= 0))
      throw new InvalidCacheOperationError(
        `A cache entry's ttl is seconds above 0, or undefined to keep it until cleared; got ${String(ttl)}.`,
      );
  }
}

/** Refuses a key that is not [namespace (strings), key (a string)]. */
export function checkCacheKey(key: unknown): asserts key is CacheFullKey {
  const [namespace, name] = Array.isArray(key) ? key : [];
  if (
    !Array.isArray(namespace) ||
    namespace.some((label) => typeof label !== "string") ||
    typeof name !== "string"
  )
    throw new InvalidCacheOperationError(
      `A cache key is [namespace, key]: a list of strings and a string; got ${JSON.stringify(key) ?? String(key)}.`,
    );
}
