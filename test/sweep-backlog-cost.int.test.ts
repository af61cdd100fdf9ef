// What one batch of the timeout sweep costs Postgres while more interrupts are due behind it: the
// same pages with 20,000 more interrupts due on other threads as with those 20,000 still waiting.
// A batch claims the threads of the oldest due interrupts (interrupts_pending_deadline, LIMIT
// the batch), then expires the claimed threads' due interrupts (sql/expire-due-interrupts.ts
// expireClaimedQuery):
//   WHERE i.thread_id = ANY($1) AND i.status = 'pending' AND i.deadline <= now()
// That test implies the plain predicate of interrupts_pending_deadline (status = 'pending' AND
// deadline IS NOT NULL, migrations/0001), so Postgres may answer it by walking that index from
// the oldest deadline with the claimed threads as a filter: every due interrupt of every thread,
// on every batch. Statistics taken before anything fell due make that plan look cheapest, and
// interrupts fall due as time passes, which no ANALYZE follows (an outage of the scheduler, a
// burst of parks with one timeout). A sweep of N due then reads N²/(2 × batch) due rows.
// Counted in pages, as backlog-cost.int.test.ts (migrations/0015, 0016; from a review, which measured
// one batch at 4,575 pages with the 20,000 still waiting and 24,296 once they were due).
import { randomUUID } from "node:crypto";
import { claimDueThreadsQuery, type Db, expireClaimedQuery } from "@layover/runtime";
import type { TestSchema } from "@layover/testing";
import type pg from "pg";
import { afterAll, beforeAll, expect, it } from "vitest";
import { costSchema, type Op, pagesRead, pastThreads } from "./support/page-cost.ts";

const FINISHED = 20_000;
/** The sweep's batch (SweepOptions.batchSize; small enough that no whole table is worth a scan). */
const BATCH = 100;
const BEHIND = 20_000;

let schema: TestSchema;
let pool: pg.Pool;
let db: Db;

beforeAll(async () => {
  ({ schema, pool, db } = await costSchema("sweep_backlog_cost"));
  const t = (name: string) => db.table(name);
  await pastThreads(pool, db, FINISHED);
  // The batch's threads, due first; the threads behind them, due later. Both were an hour or
  // more away when the statistics were taken; the deadlines of those behind are in no relation
  // to where their rows lie, as parks with timeouts of different lengths leave them.
  await pool.query(
    `INSERT INTO ${t("threads")} (id, graph_id, status)
     SELECT k || g, 'g', 'interrupted' FROM unnest(ARRAY['batch-', 'late-']) k, generate_series(1, $1::int) g
      WHERE k = 'late-' OR g <= $2`,
    [BEHIND, BATCH],
  );
  await pool.query(
    `INSERT INTO ${t("interrupts")} (thread_id, id, run_id, graph_id, task_id, node, checkpoint_id, deadline)
     SELECT k || g, 'i', gen_random_uuid(), 'g', 't', 'ask', 'c',
            now() + CASE k WHEN 'batch-' THEN interval '1 hour' ELSE interval '2 hours' + abs(hashint4(g) % 1800) * interval '1 second' END
       FROM unnest(ARRAY['batch-', 'late-']) k, generate_series(1, $1::int) g WHERE k = 'late-' OR g <= $2`,
    [BEHIND, BATCH],
  );
  await pool.query(`ANALYZE ${t("threads")}, ${t("runs")}, ${t("interrupts")}`);
  await fallDue("batch-", "3 hours");
}, 60_000);

afterAll(async () => {
  await pool?.end();
  await schema?.drop();
});

/** The interrupts of threads `prefix`… fall due (`ago` less than they were): time passes. */
async function fallDue(prefix: string, ago: string): Promise<void> {
  const t = db.table("interrupts");
  await pool.query(`UPDATE ${t} SET deadline = deadline - $2::interval WHERE thread_id LIKE $1 || '%'`, [
    prefix,
    ago,
  ]);
  await pool.query(`VACUUM ${t}`);
}

/** One batch of the sweep, as expireDueInterrupts (sql/expire-due-interrupts.ts) runs it. */
const batch: Op = async (client, cdb) => {
  const { rows: claimed } = await client.query<{ id: string; graph_id: string }>(claimDueThreadsQuery(cdb), [
    BATCH,
  ]);
  const runs = Object.fromEntries(claimed.map((row) => [row.id, { run: randomUUID(), graph: row.graph_id }]));
  const { rows } = await client.query(expireClaimedQuery(cdb), [
    claimed.map((row) => row.id),
    JSON.stringify(runs),
  ]);
  // The same batch with and without the interrupts due behind it.
  if (claimed.some((row) => !row.id.startsWith("batch-")) || rows.length !== BATCH)
    throw new Error("not the batch");
};

it("a batch of the sweep reads the same pages with 20,000 more interrupts due behind it", async () => {
  const without = await pagesRead(pool, schema.name, batch);
  await fallDue("late-", "3 hours");
  const loaded = await pagesRead(pool, schema.name, batch);
  // Walking the interrupts due behind the batch is a page per row or so: 20,000. A page per
  // thread of the batch is slack: the repeats' rolled-back resume runs pile up at the end of
  // runs_active, which can then take each insert a level deeper (66 pages here).
  expect(loaded - without).toBeLessThan(BATCH);
}, 120_000);
