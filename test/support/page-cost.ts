// Counting what a statement costs Postgres in pages (buffers of the schema's tables and indexes),
// not in time: the cost tests compare an operation with and without other threads' rows beside it.
import { createDb, type Db } from "@layover/runtime";
import type pg from "pg";

/** An operation on one connection, with a Db over that connection. */
export type Op = (client: pg.PoolClient, db: Db) => Promise<unknown>;

/** plpgsql and named statements keep a generic plan after five custom ones: measure past that. */
const TIMES = 8;

/**
 * Pages of `schema`'s tables and indexes `op` reads on one connection: done TIMES times, each in
 * a transaction rolled back (nothing changes), the last one counted.
 */
export async function pagesRead(pool: pg.Pool, schema: string, op: Op): Promise<number> {
  const client = await pool.connect();
  // The operation's statements on this one connection, as a worker's are on its own.
  const db = createDb(client as unknown as pg.Pool, schema);
  const read = async () => {
    const { rows } = await client.query<{ pages: string }>(
      `SELECT sum(pg_stat_get_xact_blocks_fetched(c.oid)) AS pages FROM pg_class c
        WHERE c.relnamespace = $1::regnamespace`,
      [schema],
    );
    return Number(rows[0]?.pages);
  };
  try {
    let pages = 0;
    for (let i = 0; i < TIMES; i++) {
      await client.query("BEGIN");
      const before = await read();
      await op(client, db);
      pages = (await read()) - before;
      await client.query("ROLLBACK");
    }
    return pages;
  } finally {
    client.release();
  }
}

/** pagesRead of each op, by name. */
export async function pagesReadByEach(
  pool: pg.Pool,
  schema: string,
  ops: Record<string, Op>,
): Promise<Record<string, number>> {
  const pages: Record<string, number> = {};
  for (const [name, op] of Object.entries(ops)) pages[name] = await pagesRead(pool, schema, op);
  return pages;
}

/** A call of `sql`, `$fn` standing for the schema: a plpgsql transition, say. */
export const call =
  (sql: string, values: unknown[] = []): Op =>
  (client, db) =>
    client.query(sql.replaceAll("$fn", db.schema), values);
