// What each transition of a run costs Postgres while a backlog builds: the same pages with
// 10,000 runs queued and 10,000 interrupts pending on other threads as with none. Every park,
// finish, start, resume and job read touches its own thread's rows; a plan that reads the
// backlog instead (a partial index of every pending run, believed empty by statistics taken
// before the backlog, in a plan kept for the session) makes each one slower as work piles up:
// the sweep benchmark's 10,000 due resumes spent a third of Postgres's time so (migrations/0008).
// So did a thread's lookups of its own interrupts by status (a start superseding them, a park
// returning them, a cancel, a wait): statistics that say none is pending let Postgres read them
// from an index led by the status, every pending interrupt of every thread (migrations/0013).
// Counted in pages, not timed (the timing is bench/sweep).
import { randomUUID } from "node:crypto";
import {
  activeRuns,
  type Db,
  getRunWithPending,
  markRunning,
  readJobRun,
  recordProgress,
} from "@layover/runtime";
import type { TestSchema } from "@layover/testing";
import type pg from "pg";
import { afterAll, beforeAll, expect, it } from "vitest";
import { call, costSchema, type Op, pagesReadByEach, pastThreads } from "./support/page-cost.ts";

const FINISHED = 20_000;
const BACKLOG = 10_000;

let schema: TestSchema;
let pool: pg.Pool;
let db: Db;
const RUN = randomUUID();
const PARKED_RUN = randomUUID();

beforeAll(async () => {
  ({ schema, pool, db } = await costSchema("backlog_cost"));
  const t = (name: string) => db.table(name);
  // Threads that ran before: their runs finished, their interrupts were answered. The statistics
  // date from then, before any backlog, as they do when one builds up quickly: they say no
  // interrupt is pending (most were answered).
  await pastThreads(pool, db, FINISHED, { runs: true });
  await pool.query(`ANALYZE ${t("threads")}, ${t("runs")}, ${t("interrupts")}`);
  // The threads measured: one running a run, one parked at an interrupt.
  await pool.query(`INSERT INTO ${t("threads")} (id, graph_id, status, current_run_id) VALUES
    ('mine', 'g', 'busy', '${RUN}'), ('parked', 'g', 'interrupted', '${PARKED_RUN}')`);
  await pool.query(`INSERT INTO ${t("runs")} (id, thread_id, graph_id, kind, status, input, checkpoint_id) VALUES
    ('${RUN}', 'mine', 'g', 'start', 'running', '{}', 'c1'),
    ('${PARKED_RUN}', 'parked', 'g', 'start', 'interrupted', '{}', 'c1')`);
  await pool.query(
    `INSERT INTO ${t("interrupts")} (thread_id, id, run_id, graph_id, task_id, node, checkpoint_id)
     VALUES ('parked', 'ask-1', '${PARKED_RUN}', 'g', 't', 'ask', 'c1')`,
  );
}, 60_000);

afterAll(async () => {
  await pool?.end();
  await schema?.drop();
});

/**
 * A start queued on each of `n` busy threads, an interrupt pending on each of `n` parked ones,
 * and `n` runs cancelled on threads that ran before.
 */
async function backlog(n: number): Promise<void> {
  const t = (name: string) => db.table(name);
  await pool.query(
    `INSERT INTO ${t("threads")} (id, graph_id, status)
     SELECT kind || g, 'g', CASE kind WHEN 'queued-' THEN 'busy' ELSE 'interrupted' END
       FROM generate_series(1, $1::int) g, unnest(ARRAY['queued-', 'waiting-']) kind`,
    [n],
  );
  await pool.query(
    `INSERT INTO ${t("runs")} (id, thread_id, graph_id, kind, input)
     SELECT gen_random_uuid(), 'queued-' || g, 'g', 'start', '{}' FROM generate_series(1, $1::int) g`,
    [n],
  );
  await pool.query(
    `INSERT INTO ${t("interrupts")} (thread_id, id, run_id, graph_id, task_id, node, checkpoint_id, deadline)
     SELECT 'waiting-' || g, 'i', gen_random_uuid(), 'g', 't', 'ask', 'c', now() + interval '1 hour'
       FROM generate_series(1, $1::int) g`,
    [n],
  );
  await pool.query(
    `INSERT INTO ${t("runs")} (id, thread_id, graph_id, kind, status, input)
     SELECT gen_random_uuid(), 'old-' || g, 'g', 'start', 'cancelled', '{}' FROM generate_series(1, $1::int) g`,
    [n],
  );
}

const interrupt = JSON.stringify([
  {
    thread_id: "mine",
    id: "ask-2",
    run_id: RUN,
    graph_id: "g",
    task_id: "t",
    node: "ask",
    checkpoint_id: "c2",
    value: null,
    options: {},
    timeout_ms: 60_000,
  },
]);

/** What a producer and a worker do to a run, each on the thread it concerns. */
const OPS: Record<string, Op> = {
  start: call(`SELECT * FROM "$fn".start_run('new', 'g', gen_random_uuid(), '{}', NULL, false)`, []),
  resume: call(
    `SELECT * FROM "$fn".resume_thread('parked', gen_random_uuid(), '{"ask-1": true}', 'c1', 'resolved', 'a person', NULL, '{}')`,
    [],
  ),
  park: call(`SELECT * FROM "$fn".park_run($1, 'w', 'c2', 1, $2)`, [RUN, interrupt]),
  finish: call(`SELECT * FROM "$fn".settle_run($1, 'w', 'success', 'c2', 1, NULL, '[]')`, [RUN]),
  "mark running": (client, cdb) => markRunning(cdb, client, RUN, "w"),
  "record progress": (client, cdb) =>
    recordProgress(cdb, client, { runId: RUN, worker: "w", checkpointId: "c3", steps: 1 }),
  "job read": (_client, cdb) => readJobRun(cdb, RUN),
  "wait read": (_client, cdb) => getRunWithPending(cdb, PARKED_RUN),
  "cancel parked run": call(`SELECT * FROM "$fn".cancel_run($1, 'x')`, [PARKED_RUN]),
  "thread's pending interrupts": (_client, cdb) =>
    cdb.pool.query(
      `SELECT * FROM ${cdb.table("interrupts")} WHERE thread_id = 'parked' AND status = 'pending'`,
    ),
  "release cancelled": call(`SELECT * FROM "$fn".release_cancelled($1, 'c1')`, [RUN]),
  // Reconciliation's page of runs idle for a minute: none of the backlog is yet.
  "reconcile read": (_client, cdb) => activeRuns(cdb, 60_000, 100),
};

it("every transition reads the same pages with 10,000 runs queued and 10,000 interrupts pending elsewhere", async () => {
  const without = await pagesReadByEach(pool, schema.name, OPS);
  await backlog(BACKLOG);
  const loaded = await pagesReadByEach(pool, schema.name, OPS);
  // Each index an op touches may grow a level (a page), and the rolled-back repeats leave dead
  // row versions to step over: a few pages. Reading the backlog is 30 pages or more per index
  // (10,000 entries), hundreds per op.
  const grown = Object.entries(loaded)
    .map(([name, pages]) => ({ name, without: without[name], loaded: pages }))
    .filter((op) => op.loaded - (op.without ?? 0) >= 20);
  expect(grown).toEqual([]);
}, 60_000);

it("still hands the thread to its own oldest queued run", async () => {
  const [first, second] = [randomUUID(), randomUUID()];
  await pool.query(
    `INSERT INTO ${db.table("runs")} (id, thread_id, graph_id, kind, input, created_at)
     VALUES ($1, 'mine', 'g', 'start', '{}', now() - interval '1 minute'), ($2, 'mine', 'g', 'start', '{}', now())`,
    [first, second],
  );
  const { rows } = await pool.query(
    `SELECT * FROM ${db.table("settle_run")}($1, 'w', 'success', 'c2', 1, NULL, '[]')`,
    [RUN],
  );
  expect(rows[0]).toMatchObject({ applied: true, thread_id: "mine", next_run_id: first });
});
