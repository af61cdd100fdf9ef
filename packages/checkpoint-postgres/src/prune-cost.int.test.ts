// What a prune by date costs Postgres beside the threads it leaves alone: those pruned before
// (down to an old head) and those still in use. Each batch of 100 threads was selected afresh:
// delete, from the first thread on, passing every thread in use on each batch (10,000 of them
// beside 1,000 idle: 231,287 pages more than alone, against 19,666 now); keep_latest, by a
// plan of Postgres's choosing, which could read every pruned thread on each batch. A prune now
// walks the heads once per call, in one order whatever the statistics say. Counted in pages
// (buffers of the schema's tables and indexes), not in time.
import { useTestSchema } from "@layover/testing/vitest";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { migrate } from "./migrate.ts";
import { PostgresSaver } from "./postgres-saver.ts";
import { pagesRead } from "./test-support/pages.ts";

const schema = useTestSchema("prune_cost");
let pool: pg.Pool;
let saver: PostgresSaver;
/** Threads each prune has to prune: ten batches of 100. */
const PRUNED = 1_000;
/** Threads beside them that a prune reads and leaves as they are. */
const BESIDE = 10_000;
/**
 * Checkpoint ids of thread g of `threads` starting with `time`: "00000001" is 1970, older than any
 * boundary a prune of today's date draws, "00000002" a little later, "ffffffff" the future.
 * The rest is a hash: ids in no relation to where the rows lie, as in a deployment.
 */
const id = (time: string, what: string) =>
  `('${time}-0000-7000-8000-' || substr(md5($1 || g || '${what}'), 1, 12))::uuid`;

beforeAll(async () => {
  // One connection: every statement of a prune shows in the same backend's statistics.
  pool = new pg.Pool({ connectionString: schema.current.url, max: 1 });
  await migrate(pool, { schema: schema.current.name });
  saver = new PostgresSaver({ pool, schema: schema.current.name });
});

afterAll(async () => {
  await pool.end();
});

/**
 * `n` threads named `prefix` and a hash (in no order either) with one namespace: with "history", an old head and an old checkpoint
 * before it; "pruned", only an old head; "in use", a recent head and an old checkpoint before it.
 */
async function threads(prefix: string, n: number, kind: "history" | "pruned" | "in use"): Promise<void> {
  const s = schema.current.name;
  const head = id(kind === "in use" ? "ffffffff" : "00000002", "head");
  const first = kind === "pruned" ? head : id("00000001", "first");
  await pool.query(
    `INSERT INTO ${s}.checkpoint_heads (thread_id, ns, head_id, first_id)
     SELECT $1 || md5(g::text), '', ${head}, ${first} FROM generate_series(1, $2::int) g`,
    [prefix, n],
  );
  await pool.query(
    `INSERT INTO ${s}.checkpoints (key_id, checkpoint_id, parent_id, body, blob_versions, metadata, metadata_filter)
     SELECT h.key_id, c.id, NULL, '[]', '{}', '{}', '{}'
       FROM ${s}.checkpoint_heads h, LATERAL (SELECT DISTINCT id FROM (VALUES (h.first_id), (h.head_id)) v(id)) c
      WHERE h.thread_id LIKE $1 || '%'`,
    [prefix],
  );
}

/** Pages a call reads, and what it returned. */
async function measured<T>(call: () => Promise<T>): Promise<{ pages: number; result: T }> {
  // Statistics as autovacuum keeps them: a prune runs on tables that have been there a while.
  await pool.query(`ANALYZE ${schema.current.name}.checkpoint_heads, ${schema.current.name}.checkpoints`);
  return pagesRead(pool, schema.current.name, call);
}

/**
 * Pages a prune by date of PRUNED threads with history reads alone, and beside BESIDE threads
 * it leaves as they are.
 */
async function cost(strategy: "keep_latest" | "delete") {
  const s = schema.current.name;
  await pool.query(`TRUNCATE ${s}.checkpoint_heads, ${s}.checkpoints`);
  const prune = () => saver.prune({ olderThan: new Date() }, { strategy });
  await threads("a-", PRUNED, "history");
  const alone = await measured(prune);
  // keep_latest leaves threads already pruned down to an old head; delete, threads in use.
  await threads("0-beside-", BESIDE, strategy === "keep_latest" ? "pruned" : "in use");
  await threads("b-", PRUNED, "history");
  const beside = await measured(prune);
  return { alone, beside };
}

describe.each(["keep_latest", "delete"] as const)("prune by date, %s", (strategy) => {
  it(`reads the ${BESIDE.toLocaleString("en")} threads it leaves alone once, not once per batch`, async () => {
    const { alone, beside } = await cost(strategy);
    expect(alone.result).toMatchObject({ threads: PRUNED });
    expect(beside.result).toMatchObject({ threads: PRUNED });
    // Passing a thread is a page or two (its head's row, in no order, and its index entry), and
    // the heads' larger index a page more per thread pruned: once per call, under 3 * BESIDE;
    // once per batch of 100, PRUNED / 100 times as many.
    expect(beside.pages - alone.pages).toBeLessThan(3 * BESIDE);
  }, 120_000);
});
