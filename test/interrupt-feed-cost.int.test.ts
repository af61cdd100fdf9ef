// What a read of interrupts.watch's feed costs Postgres, in pages: the rows parked since its
// cursor (interrupts_pending_parked), not every interrupt pending. A watch reads at each park.
import { type Db, FEED_START, readFeed } from "@layover/runtime";
import type { TestSchema } from "@layover/testing";
import type pg from "pg";
import { afterAll, beforeAll, expect, it } from "vitest";
import { settledRead } from "./support/feed.ts";
import { costSchema, pagesRead } from "./support/page-cost.ts";

let schema: TestSchema;
let pool: pg.Pool;
let db: Db;

beforeAll(async () => {
  ({ schema, pool, db } = await costSchema("interrupt_feed_cost"));
}, 60_000);
afterAll(async () => {
  await pool?.end();
  await schema?.drop();
});

/** `n` threads waiting for a person, each parked in a transaction of its own, named `prefix`-1…. */
async function parked(prefix: string, n: number): Promise<void> {
  for (let g = 1; g <= n; g++)
    await pool.query(
      `WITH t AS (INSERT INTO "${schema.name}".threads (id, graph_id, status) VALUES ($1, 'g', 'interrupted'))
       INSERT INTO "${schema.name}".interrupts (thread_id, id, run_id, graph_id, task_id, node, checkpoint_id)
       VALUES ($1, 'i', gen_random_uuid(), 'g', 't', 'ask', 'c')`,
      [`${prefix}-${g}`],
    );
}

it("reads the interrupts parked after the cursor, whatever else is pending", async () => {
  await parked("first", 20);
  const cursor = (await settledRead(db, FEED_START)).rows.at(-1)?.position ?? FEED_START;
  expect(cursor.id).toBe("i");
  await parked("then", 5);
  const alone = await pagesRead(pool, schema.name, (_, own) => readFeed(own, cursor, 100));

  // 20,000 more pending in one bulk park before the cursor: the read after it costs the same.
  await pool.query(
    `INSERT INTO "${schema.name}".threads (id, graph_id, status)
     SELECT 'bulk-' || g, 'g', 'interrupted' FROM generate_series(1, 20000) g;
     INSERT INTO "${schema.name}".interrupts (thread_id, id, run_id, graph_id, task_id, node, checkpoint_id, parked_xid)
     SELECT 'bulk-' || g, 'i', gen_random_uuid(), 'g', 't', 'ask', 'c', '1' FROM generate_series(1, 20000) g;
     ANALYZE "${schema.name}".interrupts`,
  );
  const beside = await pagesRead(pool, schema.name, (_, own) => readFeed(own, cursor, 100));
  const read = await settledRead(db, cursor);
  expect(read.rows.map((row) => row.thread_id)).toEqual(["then-1", "then-2", "then-3", "then-4", "then-5"]);
  expect(beside).toBeLessThanOrEqual(alone + 2);
});
