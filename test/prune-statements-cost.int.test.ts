// What pruning one thread's checkpoints costs Postgres beside other threads' checkpoints: the
// same pages with 20,000 other threads (200,000 checkpoints, 400,000 blob rows, 400,000 pending
// writes) as with none, with the statistics taken while the deployment had a handful of threads
// (ANALYZE on few threads, then many rows of other threads: a new deployment's first busy day, an
// import). Each
// statement keep_latest sends for a thread (checkpoint-postgres/src/sql/prune.ts) is measured.
// blob-links, `checkpoint_heads h JOIN checkpoint_blobs b ON b.key_id = h.key_id WHERE
// h.thread_id = $1`, is costed from statistics that say a key has a sixth of the table: Postgres
// hashes the thread's key and scans every blob row of every thread (a parallel seq scan), on
// every thread a prune visits. The other joins of a thread's rows are DELETEs (no parallel
// plan) and take the key's index; blob-links and referenced-blobs now probe by key (from a
// review: 4 pages became 7,928). Counted in pages, as backlog-cost.int.test.ts.
import { migrate } from "@layover/checkpoint-postgres";
import type { TestSchema } from "@layover/testing";
import type pg from "pg";
import { afterAll, beforeAll, expect, it } from "vitest";
import {
  deleteKeyRowsSql,
  lockThreadHeadsSql,
} from "../packages/checkpoint-postgres/src/sql/delete-threads.ts";
import * as sql from "../packages/checkpoint-postgres/src/sql/prune.ts";
import { costSchema, type Op, pagesReadByEach } from "./support/page-cost.ts";

const OTHERS = 20_000;
const STEPS = 10;

let schema: TestSchema;
let pool: pg.Pool;
let s: string;
let key: string;

/**
 * `n` threads `prefix`1…n, each with `steps` checkpoints (ids time-ordered per thread), a blob row
 * of two channels and two pending writes per checkpoint, written step by step across threads as
 * a deployment writes them.
 */
async function threads(prefix: string, n: number, steps = STEPS): Promise<void> {
  const id = (step: string) =>
    `('00000002-0000-7000-8000-' || lpad(to_hex(g), 8, '0') || lpad(to_hex(${step}), 4, '0'))::uuid`;
  const heads = `JOIN ${s}.checkpoint_heads h ON h.thread_id = $1 || g AND h.ns = ''`;
  await pool.query(
    `INSERT INTO ${s}.checkpoint_heads (thread_id, ns, head_id, first_id)
     SELECT $1 || g, '', ${id(String(steps))}, ${id("1")} FROM generate_series(1, $2::int) g`,
    [prefix, n],
  );
  await pool.query(
    `INSERT INTO ${s}.checkpoints (key_id, checkpoint_id, parent_id, body, blob_versions, metadata, metadata_filter)
     SELECT h.key_id, ${id("j")}, NULL, repeat('b', 100), json_build_object('messages', j, 'state', j),
            '{"source": "loop"}', '{"source": "loop"}'
       FROM generate_series(1, ${steps}) j CROSS JOIN generate_series(1, $2::int) g ${heads} ORDER BY j, g`,
    [prefix, n],
  );
  await pool.query(
    `INSERT INTO ${s}.checkpoint_blobs (key_id, channel, version, data)
     SELECT h.key_id, c, j, repeat('d', 80)
       FROM generate_series(1, ${steps}) j CROSS JOIN unnest(ARRAY['messages', 'state']) c
            CROSS JOIN generate_series(1, $2::int) g ${heads} ORDER BY j, g`,
    [prefix, n],
  );
  await pool.query(
    `INSERT INTO ${s}.checkpoint_writes (key_id, checkpoint_id, task_id, idx, channel, data)
     SELECT h.key_id, ${id("j")}, 'task', i, 'messages', repeat('w', 50)
       FROM generate_series(1, ${steps}) j CROSS JOIN generate_series(0, 1) i
            CROSS JOIN generate_series(1, $2::int) g ${heads} ORDER BY j, g`,
    [prefix, n],
  );
}

beforeAll(async () => {
  ({ schema, pool } = await costSchema("checkpoint_prune_cost"));
  await migrate(pool, { schema: schema.name });
  s = `"${schema.name}"`;
  // The thread pruned, and a few long ones: all the statistics know of.
  await threads("mine-", 1);
  await threads("first-", 5, 2_000);
  await pool.query(
    `ANALYZE ${s}.checkpoint_heads, ${s}.checkpoints, ${s}.checkpoint_blobs, ${s}.checkpoint_writes`,
  );
  const { rows } = await pool.query(`SELECT key_id FROM ${s}.checkpoint_heads WHERE thread_id = 'mine-1'`);
  key = rows[0].key_id;
}, 60_000);

afterAll(async () => {
  await pool?.end();
  await schema?.drop();
});

const query =
  (text: () => string, values: () => unknown[]): Op =>
  (client) =>
    client.query(text(), values());
const thread = () => ["mine-1"];
/** Checkpoints 1–4 of thread mine-1 are older than the boundary. */
const BOUNDARY = "00000002-0000-7000-8000-000000010005";

/** keep_latest's statements for thread mine-1 (prune.ts keepLatest, pruneBlobs), then a delete's. */
const OPS: Record<string, Op> = {
  "lock-heads": query(() => sql.lockHeadsSql(s), thread),
  "delete-old-checkpoints": query(
    () => sql.deleteOldCheckpointsSql(s),
    () => ["mine-1", BOUNDARY],
  ),
  "delete-orphan-writes": query(() => sql.deleteOrphanWritesSql(s), thread),
  "referenced-blobs": query(() => sql.referencedBlobsSql(s), thread),
  "blob-links": query(() => sql.blobLinksSql(s), thread),
  "delete-unreferenced-blobs": query(
    () => sql.deleteUnreferencedBlobsSql(s),
    () => ["mine-1", [key], ["messages"], [STEPS]],
  ),
  "reset-first-ids": query(() => sql.resetFirstIdsSql(s), thread),
  "lock-thread-heads": query(
    () => lockThreadHeadsSql(s),
    () => [["mine-1"]],
  ),
  "delete-key-rows": query(
    () => deleteKeyRowsSql(s),
    () => [[key]],
  ),
};

it("pruning a thread reads the same pages with 20,000 other threads' checkpoints beside it", async () => {
  const without = await pagesReadByEach(pool, schema.name, OPS);
  await threads("other-", OTHERS);
  const stale = await pagesReadByEach(pool, schema.name, OPS);
  await pool.query(
    `ANALYZE ${s}.checkpoint_heads, ${s}.checkpoints, ${s}.checkpoint_blobs, ${s}.checkpoint_writes`,
  );
  const fresh = await pagesReadByEach(pool, schema.name, OPS);
  // A few pages of slack (an index level); a scan of the other threads' blob rows is thousands.
  const grown = Object.keys(OPS)
    .map((name) => ({ name, without: without[name] ?? 0, stale: stale[name] ?? 0, fresh: fresh[name] ?? 0 }))
    .filter((op) => Math.max(op.stale, op.fresh) - op.without >= 20);
  expect(grown).toEqual([]);
}, 120_000);
