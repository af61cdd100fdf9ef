// Counting what a statement costs Postgres in pages (buffers of the schema's tables and indexes),
// not in time: the cost tests compare an operation with and without other threads' rows beside it.
import { createDb, type Db, migrateRuntime } from "@layover/runtime";
import { createTestSchema, type TestSchema } from "@layover/testing";
import pg from "pg";

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

/** A migrated schema of its own for a cost test, with a small pool on it. */
export async function costSchema(name: string): Promise<{ schema: TestSchema; pool: pg.Pool; db: Db }> {
  const schema = await createTestSchema(name);
  const pool = new pg.Pool({ connectionString: schema.url, max: 2 });
  await migrateRuntime(pool, { schema: schema.name });
  return { schema, pool, db: createDb(pool, schema.name) };
}

/**
 * Threads old-1…old-`n` that ran before: each with an interrupt answered and, when `runs`, a
 * run that finished.
 */
export async function pastThreads(pool: pg.Pool, db: Db, n: number, options: { runs?: boolean } = {}) {
  const t = (name: string) => db.table(name);
  await pool.query(
    `INSERT INTO ${t("threads")} (id, graph_id) SELECT 'old-' || g, 'g' FROM generate_series(1, $1::int) g`,
    [n],
  );
  if (options.runs)
    await pool.query(
      `INSERT INTO ${t("runs")} (id, thread_id, graph_id, kind, status, input)
       SELECT gen_random_uuid(), 'old-' || g, 'g', 'start', 'success', '{}' FROM generate_series(1, $1::int) g`,
      [n],
    );
  await pool.query(
    `INSERT INTO ${t("interrupts")} (thread_id, id, run_id, graph_id, task_id, node, checkpoint_id, status)
     SELECT 'old-' || g, 'i', gen_random_uuid(), 'g', 't', 'ask', 'c', 'resolved' FROM generate_series(1, $1::int) g`,
    [n],
  );
}
