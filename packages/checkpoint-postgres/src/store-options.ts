import type { IndexConfig } from "@layover/checkpoint";
import type { Pool } from "pg";
import type { RetryOptions } from "./retry.ts";

/** Options of `new PostgresStore(…)`, as PostgresSaver takes them. */
/** Every key PostgresStoreOptions has: a constructor refuses others. */
export const STORE_OPTIONS = [
  "pool",
  "connectionString",
  "maxConnections",
  "schema",
  "retry",
  "index",
] as const satisfies readonly (keyof PostgresStoreOptions)[];

export interface PostgresStoreOptions {
  /** The pool to use. The store never ends a pool it was given. Give this or `connectionString`. */
  pool?: Pool;
  /** Builds a pool the store owns (and `close()` ends). */
  connectionString?: string;
  /**
   * Maximum connections of the pool built from `connectionString`.
   * @defaultValue 10
   */
  maxConnections?: number;
  /**
   * The schema holding the store's table (`migrate()` creates it, with the checkpoint tables).
   * @defaultValue "layover"
   */
  schema?: string;
  /** Retries of transient failures (see RetryOptions for the defaults). */
  retry?: RetryOptions;
  /**
   * Semantic search, as LangGraph's stores take it: `{ dims, embeddings, fields }`. Puts embed
   * their documents' texts (before anything is written) and `search(prefix, { query })` ranks
   * the items under the prefix by similarity. Without it, a query is refused.
   */
  index?: IndexConfig | undefined;
}
