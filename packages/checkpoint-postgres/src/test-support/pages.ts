// What a statement costs Postgres, counted in pages (buffers of a schema's tables and indexes
// read, from cache or disk), not in time: the measure of this package's cost tests.
import type pg from "pg";

/** Pages of `schema`'s tables and indexes read so far, as the statistics count them. */
export async function pagesSoFar(pool: pg.Pool, schema: string): Promise<number> {
  // Flushes this backend's counts (at the end of the statement), then reads them afresh.
  await pool.query("SELECT pg_stat_force_next_flush()");
  await pool.query("SELECT pg_stat_clear_snapshot()");
  const { rows } = await pool.query<{ pages: string }>(
    `SELECT sum(heap_blks_hit + heap_blks_read + coalesce(idx_blks_hit, 0) + coalesce(idx_blks_read, 0)) AS pages
       FROM pg_statio_all_tables WHERE schemaname = $1`,
    [schema],
  );
  return Number(rows[0]?.pages);
}

/**
 * Pages of `schema` that `call` reads, and what it returned. `pool` has one connection, which
 * `call` uses too: its statements show in the backend's statistics that are flushed.
 */
export async function pagesRead<T>(
  pool: pg.Pool,
  schema: string,
  call: () => Promise<T>,
): Promise<{ pages: number; result: T }> {
  const before = await pagesSoFar(pool, schema);
  const result = await call();
  return { pages: (await pagesSoFar(pool, schema)) - before, result };
}
