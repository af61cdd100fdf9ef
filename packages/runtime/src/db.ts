import {
  type BatchRead,
  inTransaction as inPoolTransaction,
  ReadBatcher,
  statementName,
} from "@layover/checkpoint-postgres";
import type pg from "pg";
import { InvalidConfigError } from "./errors.ts";

/** The runtime's tables live in one Postgres schema (default "layover"), beside the checkpoints. */
export interface Db {
  pool: pg.Pool;
  schema: string;
  /** `"schema"."table"`, safe to interpolate into SQL. */
  table(name: string): string;
  /**
   * A named (prepared) statement: each connection parses and plans it once, not on every call.
   * `name` identifies the SQL text within the schema; the hot paths of workers and producers use it.
   */
  prepared(name: string, text: string, values: unknown[]): { name: string; text: string; values: unknown[] };
}

const IDENTIFIER = /^[a-z_][a-z0-9_]{0,62}$/;

/** Refuses a schema name Postgres would not take as it is (see createDb), before any connection opens. */
export function checkSchemaName(schema: unknown): asserts schema is string {
  if (typeof schema === "string" && IDENTIFIER.test(schema) && !schema.startsWith("pg_")) return;
  throw new InvalidConfigError(
    `Invalid schema name ${JSON.stringify(schema) ?? String(schema)}: use lower-case letters, digits and underscores, starting with a letter or underscore, at most 63 characters, and not "pg_" (Postgres keeps those names).`,
  );
}

export function createDb(pool: pg.Pool, schema = "layover"): Db {
  checkSchemaName(schema);
  return {
    pool,
    schema,
    table: (name) => `"${schema}"."${name}"`,
    prepared: (name, text, values) => ({ name: statementName(`runtime_${name}`, schema), text, values }),
  };
}

/** Runs `fn` in a transaction on one pooled client; always ends the transaction and releases. */
export function inTransaction<T>(db: Db, fn: (client: pg.PoolClient) => Promise<T>): Promise<T> {
  return inPoolTransaction(db.pool, fn);
}

/** Any query runner: the pool, or a client inside a transaction. */
export type Queryable = Pick<pg.Pool, "query"> | pg.PoolClient;

const batchers = new WeakMap<Db, Map<string, ReadBatcher<unknown>>>();

/**
 * `db`'s batcher for one kind of read by id (made on first use): reads asked while one is in
 * flight share the next statement (see ReadBatcher). `read` gets distinct ids.
 */
export function batchedRead<V>(
  db: Db,
  kind: string,
  read: BatchRead<V>,
): (id: string) => Promise<V | undefined> {
  let kinds = batchers.get(db);
  if (kinds === undefined) {
    kinds = new Map();
    batchers.set(db, kinds);
  }
  let batcher = kinds.get(kind) as ReadBatcher<V> | undefined;
  if (batcher === undefined) {
    // Primary-key reads, quick: two statements in flight, the rest batched behind them.
    batcher = new ReadBatcher(read, { maxInFlight: 2 });
    kinds.set(kind, batcher as ReadBatcher<unknown>);
  }
  const found = batcher;
  return (id) => found.load(id);
}
