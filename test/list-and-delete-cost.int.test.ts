// What interrupts.list (and layover-admin interrupts) and threads.delete cost Postgres while
// other threads' interrupts and crons pile up. Counted in pages, as backlog-cost.int.test.ts.
//  * interrupts.list({ threadId }): with statistics from before the backlog, Postgres reads
//    interrupts_status_created (status leads, thread_id is its third column) for the order it
//    gives, walking every pending interrupt of every thread to find this thread's.
//  * interrupts.list({ graphId }) / `layover-admin interrupts --graph`: graph_id is in no index:
//    the first page of a graph with few interrupts reads every pending interrupt of the others
//    (an index scan with a filter, or with fresh statistics a scan of the whole table).
//  * threads.delete: refuseInUse looks for a cron on the thread with crons.thread_id, which no
//    index serves: a scan of every cron.
import { randomUUID } from "node:crypto";
import { type Db, listInterrupts } from "@layover/runtime";
import type { TestSchema } from "@layover/testing";
import type pg from "pg";
import { afterAll, beforeAll, expect, it } from "vitest";
import { costSchema, type Op, pagesReadByEach, pastThreads } from "./support/page-cost.ts";

const FINISHED = 20_000;
const BACKLOG = 50_000;
const CRONS = 20_000;

let schema: TestSchema;
let pool: pg.Pool;
let db: Db;

beforeAll(async () => {
  ({ schema, pool, db } = await costSchema("list_delete_cost"));
  const t = (name: string) => db.table(name);
  // Threads that ran before: their interrupts were answered.
  await pastThreads(pool, db, FINISHED);
  // The thread read: parked on a graph of its own ("rare"), asking one question.
  await pool.query(
    `INSERT INTO ${t("threads")} (id, graph_id, status) VALUES ('parked', 'rare', 'interrupted')`,
  );
  await pool.query(
    `INSERT INTO ${t("interrupts")} (thread_id, id, run_id, graph_id, task_id, node, checkpoint_id)
     VALUES ('parked', 'ask-1', $1, 'rare', 't', 'ask', 'c1')`,
    [randomUUID()],
  );
  await pool.query(`ANALYZE ${t("threads")}, ${t("runs")}, ${t("interrupts")}, ${t("crons")}`);
}, 60_000);

afterAll(async () => {
  await pool?.end();
  await schema?.drop();
});

/** `n` threads of graph "g" waiting for a person, and `crons` crons each on a thread of its own. */
async function backlog(n: number, crons: number): Promise<void> {
  const t = (name: string) => db.table(name);
  await pool.query(
    `INSERT INTO ${t("threads")} (id, graph_id, status) SELECT 'waiting-' || g, 'g', 'interrupted' FROM generate_series(1, $1::int) g`,
    [n],
  );
  await pool.query(
    `INSERT INTO ${t("interrupts")} (thread_id, id, run_id, graph_id, task_id, node, checkpoint_id, created_at)
     SELECT 'waiting-' || g, 'i', gen_random_uuid(), 'g', 't', 'ask', 'c', now() - interval '1 hour'
       FROM generate_series(1, $1::int) g`,
    [n],
  );
  await pool.query(
    `INSERT INTO ${t("crons")} (id, graph_id, schedule, thread_id)
     SELECT gen_random_uuid(), 'g', '0 * * * *', 'tenant-' || g FROM generate_series(1, $1::int) g`,
    [crons],
  );
}

/** refuseInUse's check (client/delete-thread.ts), on a thread that holds no run and no cron. */
const deleteCheck: Op = (client, cdb) =>
  client.query(
    `SELECT t.status,
            coalesce((SELECT r.id FROM ${cdb.table("runs")} r
              WHERE r.thread_id = t.id AND r.status IN ('pending', 'running') LIMIT 1),
              CASE WHEN t.status = 'busy' THEN t.current_run_id END) AS active_run,
            (SELECT c.id FROM ${cdb.table("crons")} c WHERE c.thread_id = t.id LIMIT 1) AS cron
       FROM ${cdb.table("threads")} t WHERE t.id = $1`,
    ["old-1"],
  );

const OPS: Record<string, Op> = {
  "interrupts.list({ threadId })": (_client, cdb) => listInterrupts(cdb, { threadId: "parked" }),
  "interrupts.list({ graphId })": (_client, cdb) => listInterrupts(cdb, { graphId: "rare" }),
  // A JavaScript caller's null for "any thread", as the query itself takes it (from a review).
  "interrupts.list({ graphId, threadId: null })": (_client, cdb) =>
    listInterrupts(cdb, { graphId: "rare", threadId: null as unknown as undefined }),
  "threads.delete's check": deleteCheck,
};

it("a thread's or a graph's interrupts, and a delete's check, read the same pages with 50,000 pending and 20,000 crons elsewhere", async () => {
  const without = await pagesReadByEach(pool, schema.name, OPS);
  await backlog(BACKLOG, CRONS);
  const stale = await pagesReadByEach(pool, schema.name, OPS);
  await pool.query(`ANALYZE ${db.table("threads")}, ${db.table("interrupts")}, ${db.table("crons")}`);
  const fresh = await pagesReadByEach(pool, schema.name, OPS);
  const grown = Object.keys(OPS)
    .map((name) => ({ name, without: without[name] ?? 0, stale: stale[name] ?? 0, fresh: fresh[name] ?? 0 }))
    .filter((op) => Math.max(op.stale, op.fresh) - op.without >= 20);
  expect(grown).toEqual([]);
}, 60_000);
