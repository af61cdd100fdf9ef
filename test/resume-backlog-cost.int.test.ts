// What a person's resume costs Postgres while interrupts pile up on other threads. resume_thread
// (migrations/0003) first checks that every interrupt it answers is still pending:
//   SELECT v.key FROM jsonb_each(p_values) v
//    WHERE NOT EXISTS (SELECT 1 FROM interrupts i WHERE i.thread_id = p_thread AND i.id = v.key
//                        AND i.status = 'pending') LIMIT 1
// With statistics taken while hardly anything was pending, and a table autovacuum has visited
// (its visibility map set, so index-only scans look cheap), Postgres answers the NOT EXISTS with
// an index-only scan of interrupts_status_created on `status = 'pending' AND thread_id = $1`:
// thread_id is its third column, so the scan walks the index entry of every pending interrupt of
// every thread until it meets this thread's. backlog-cost.int.test.ts does not see it: its
// tables were never vacuumed, and its backlog is younger than the interrupt it answers.
import { randomUUID } from "node:crypto";
import type { Db } from "@layover/runtime";
import type { TestSchema } from "@layover/testing";
import type pg from "pg";
import { afterAll, beforeAll, expect, it } from "vitest";
import { call, costSchema, pagesRead, pastThreads } from "./support/page-cost.ts";

const FINISHED = 20_000;
const BACKLOG = 20_000;

let schema: TestSchema;
let pool: pg.Pool;
let db: Db;

beforeAll(async () => {
  ({ schema, pool, db } = await costSchema("resume_backlog"));
  const t = (name: string) => db.table(name);
  // Threads that ran before: their interrupts were answered.
  await pastThreads(pool, db, FINISHED);
  // The statistics, and the visibility map, as autovacuum leaves them before a backlog builds.
  for (const table of ["threads", "runs", "interrupts"]) await pool.query(`VACUUM ANALYZE ${t(table)}`);
}, 60_000);

afterAll(async () => {
  await pool?.end();
  await schema?.drop();
});

/** Thread `id`, parked now with one pending interrupt, "ask". */
async function parked(id: string): Promise<void> {
  const run = randomUUID();
  await pool.query(
    `INSERT INTO ${db.table("threads")} (id, graph_id, status, current_run_id) VALUES ($1, 'g', 'interrupted', $2)`,
    [id, run],
  );
  await pool.query(
    `INSERT INTO ${db.table("runs")} (id, thread_id, graph_id, kind, status, input, checkpoint_id) VALUES ($1, $2, 'g', 'start', 'interrupted', '{}', 'c1')`,
    [run, id],
  );
  await pool.query(
    `INSERT INTO ${db.table("interrupts")} (thread_id, id, run_id, graph_id, task_id, node, checkpoint_id) VALUES ($1, 'ask', $2, 'g', 't', 'ask', 'c1')`,
    [id, run],
  );
}

/** `n` threads waiting for a person since an hour ago (older than the question answered). */
async function backlog(n: number): Promise<void> {
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
}

const resume = (thread: string, answers: string) =>
  pagesRead(
    pool,
    schema.name,
    call(
      `SELECT * FROM "$fn".resume_thread('${thread}', gen_random_uuid(), '${answers}', 'c1', 'resolved', 'a person', NULL, '{}')`,
    ),
  );

it("a resume reads the same pages with 20,000 older interrupts pending on other threads", async () => {
  await parked("before");
  const without = {
    resume: await resume("before", '{"ask": true}'),
    "resume of an answered question": await resume("before", '{"gone": true}'),
  };
  await backlog(BACKLOG);
  await parked("after"); // parked once the backlog stood: the usual case
  const loaded = {
    resume: await resume("after", '{"ask": true}'),
    "resume of an answered question": await resume("after", '{"gone": true}'),
  };
  // A few pages of slack (an index level); reading the backlog is one page per ~90 pending.
  const grown = Object.entries(loaded)
    .map(([name, pages]) => ({ name, without: without[name as keyof typeof without], loaded: pages }))
    .filter((op) => op.loaded - op.without >= 20);
  expect(grown).toEqual([]);
}, 60_000);
