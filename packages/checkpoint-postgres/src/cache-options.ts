import type { Pool } from "pg";
import type { RetryOptions } from "./retry.ts";

/** Options of `new PostgresCache(…)`, as PostgresStore takes them. */
/** Every key PostgresCacheOptions has: a constructor refuses others. */
export const CACHE_OPTIONS = [
  "pool",
  "connectionString",
  "maxConnections",
  "schema",
  "retry",
] as const satisfies readonly (keyof PostgresCacheOptions)[];

export interface PostgresCacheOptions {
  /** The pool to use. The cache never ends a pool it was given. Give this or `connectionString`. */
  pool?: Pool;
  /** Builds a pool the cache owns (and `close()` ends). */
  connectionString?: string;
  /**
   * Maximum connections of the pool built from `connectionString`.
   * @defaultValue 10
   */
  maxConnections?: number;
  /**
   * The schema holding the cache's table (`migrate()` creates it, with the checkpoint tables).
   * @defaultValue "layover"
   */
  schema?: string;
  /** Retries of transient failures (see RetryOptions for the defaults). */
  retry?: RetryOptions;
}
