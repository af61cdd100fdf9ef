// What a read of interrupts.watch's feed of one graph costs Postgres, in pages: that graph's rows
// parked since its cursor, not those of every graph. A watch of a quiet graph beside a busy one
// reads at each of its own graph's parks and every pollMs (test/interrupt-watch-wakes.int.test.ts).
import { type Db, FEED_START, type FeedPosition, readFeed } from "@layover/runtime";
import type { TestSchema } from "@layover/testing";
import type pg from "pg";
import { afterAll, beforeAll, expect, it } from "vitest";
import { settledRead } from "./support/feed.ts";
import { costSchema, pagesRead } from "./support/page-cost.ts";

let schema: TestSchema;
let pool: pg.Pool;
let db: Db;

beforeAll(async () => {
  ({ schema, pool, db } = await costSchema("interrupt_feed_graph_cost"));
}, 60_000);
afterAll(async () => {
  await pool?.end();
  await schema?.drop();
});

/** `n` threads of `graph` waiting for a person, all parked in one transaction, named `prefix`-1…. */
async function parked(graph: string, prefix: string, n: number): Promise<void> {
  await pool.query(
    `INSERT INTO "${schema.name}".threads (id, graph_id, status)
     SELECT $1 || '-' || g, $2, 'interrupted' FROM generate_series(1, $3::int) g;`,
    [prefix, graph, n],
  );
  await pool.query(
    `INSERT INTO "${schema.name}".interrupts (thread_id, id, run_id, graph_id, task_id, node, checkpoint_id)
     SELECT $1 || '-' || g, $1 || '-i-' || g, gen_random_uuid(), $2, 't', 'ask', 'c' FROM generate_series(1, $3::int) g`,
    [prefix, graph, n],
  );
  await pool.query(`ANALYZE "${schema.name}".interrupts`);
}

it("reads the watched graph's interrupts parked after the cursor, whatever other graphs park", async () => {
  await parked("quiet", "quiet", 5);
  const cursor = (await settledRead(db, FEED_START, "quiet")).rows.at(-1)?.position as FeedPosition;
  expect(cursor.id).toBe("quiet-i-5");
  const read = (own: Db) => readFeed(own, cursor, 100, { graphId: "quiet" });
  await parked("quiet", "later", 3);
  const alone = await pagesRead(pool, schema.name, (_, own) => read(own));

  // 20,000 questions of a busy graph parked after the cursor: the quiet graph's read costs the same.
  await parked("busy", "busy", 20_000);
  const beside = await pagesRead(pool, schema.name, (_, own) => read(own));
  expect((await settledRead(db, cursor, "quiet")).rows.map((row) => row.thread_id)).toEqual([
    "later-1",
    "later-2",
    "later-3",
  ]);
  // The index grows a level or two; reading every busy question was 319 pages.
  expect(beside).toBeLessThanOrEqual(alone + 4);
});
