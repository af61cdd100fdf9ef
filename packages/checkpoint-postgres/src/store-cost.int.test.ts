// What PostgresStore's reads cost beside the items they leave alone: a search under one user's
// namespace, and a page of listNamespaces, in a store of 100,000 items of 1,000 users. Counted
// in pages (buffers of the schema's tables and indexes), not in time.
import { useTestSchema } from "@layover/testing/vitest";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { migrate } from "./migrate.ts";
import { PostgresStore } from "./postgres-store.ts";
import { pagesRead } from "./test-support/pages.ts";

const schema = useTestSchema("store_cost");
let pool: pg.Pool;
let store: PostgresStore;
const USERS = 1_000;
/** Items of each user, half under "memories", half under "prefs". */
const EACH = 100;
let tablePages = 0;

beforeAll(async () => {
  // One connection: every statement shows in the same backend's statistics.
  pool = new pg.Pool({ connectionString: schema.current.url, max: 1 });
  const s = schema.current.name;
  await migrate(pool, { schema: s });
  store = new PostgresStore({ pool, schema: s });
  // Users' items interleaved, as they arrive in a deployment: each user's rows on pages of their own.
  await pool.query(
    `INSERT INTO ${s}.store_items (namespace, key, value, created_at, updated_at)
     SELECT ARRAY['users', 'u' || (g % $1::int), CASE WHEN g % 2 = 0 THEN 'memories' ELSE 'prefs' END],
            'k' || g, jsonb_build_object('n', g, 'note', repeat('x', 40)), now(), now()
       FROM generate_series(1, $1::int * $2::int) g`,
    [USERS, EACH],
  );
  // A table that has been there a while: statistics and visibility map as autovacuum keeps them.
  await pool.query(`VACUUM ANALYZE ${s}.store_items`);
  const { rows } = await pool.query<{ pages: number }>(
    `SELECT (pg_relation_size('${s}.store_items') / current_setting('block_size')::int)::int AS pages`,
  );
  tablePages = rows[0]?.pages ?? 0;
}, 120_000);

afterAll(async () => {
  await pool.end();
});

describe("PostgresStore's cost", () => {
  it("searches a user's namespace reading that user's rows, not the other users'", async () => {
    expect(tablePages).toBeGreaterThan(1_000);
    const { pages, result } = await pagesRead(pool, schema.current.name, () =>
      store.search(["users", "u1"], { filter: { n: { $gte: 0 } }, limit: 5 }),
    );
    expect(result).toHaveLength(5);
    expect(result.every((item) => item.namespace[1] === "u1")).toBe(true);
    // A row a page (the user's rows lie apart) and the index's few: under 2 * EACH. A scan of
    // the table, or of every "u1…" label's rows (u10, u100…), reads many times more.
    expect(pages).toBeLessThan(2 * EACH);
  });

  it("lists a page of namespaces by probing the index once per namespace, not reading the items", async () => {
    const { pages, result } = await pagesRead(pool, schema.current.name, () =>
      store.listNamespaces({ prefix: ["users"], maxDepth: 2, limit: 100 }),
    );
    expect(result).toHaveLength(100);
    expect(result[0]).toEqual(["users", "u0"]);
    // An index descent (a few pages) per namespace listed: 100 namespaces under 5 * 100 pages,
    // while their 10,000 items lie on most of the table's pages.
    expect(pages).toBeLessThan(5 * 100);
    expect(pages).toBeLessThan(tablePages / 2);
  });
});
