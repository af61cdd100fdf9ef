// What a thread's own interrupt lookups cost Postgres while other threads wait for people: the
// same pages with 10,000 interrupts pending on other threads as with none, once statistics say
// (as they do in a deployment whose interrupts mostly got answered) that hardly any is pending.
// Each lookup names the thread and a status. Postgres may answer it from an index led by the
// status (the lists of interrupts by status and by graph) as cheaply, it believes, as from the
// thread's own index: it then reads every pending interrupt of every thread. A start (which
// supersedes the thread's pending interrupts), a park (which returns them), a wait, a cancel and a
// thread's list each did, a plan kept for the session (migrations/0013).
import { randomUUID } from "node:crypto";
import { type Db, getRunWithPending } from "@layover/runtime";
import type { TestSchema } from "@layover/testing";
import type pg from "pg";
import { afterAll, beforeAll, expect, it } from "vitest";
import { call, costSchema, type Op, pagesReadByEach, pastThreads } from "./support/page-cost.ts";

const ANSWERED = 20_000;
const PENDING = 10_000;

let schema: TestSchema;
let pool: pg.Pool;
let db: Db;
const RUNNING = randomUUID();
const PARKED = randomUUID();

beforeAll(async () => {
  ({ schema, pool, db } = await costSchema("pending_elsewhere_cost"));
  const t = (name: string) => db.table(name);
  // A deployment's past: threads whose interrupts were all answered.
  await pastThreads(pool, db, ANSWERED, { runs: true });
  await pool.query(`ANALYZE ${t("threads")}, ${t("runs")}, ${t("interrupts")}`);
  // The threads measured: one running a run, one parked at an interrupt.
  await pool.query(`INSERT INTO ${t("threads")} (id, graph_id, status, current_run_id) VALUES
    ('mine', 'g', 'busy', '${RUNNING}'), ('parked', 'g', 'interrupted', NULL)`);
  await pool.query(`INSERT INTO ${t("runs")} (id, thread_id, graph_id, kind, status, input, checkpoint_id) VALUES
    ('${RUNNING}', 'mine', 'g', 'start', 'running', '{}', 'c1'),
    ('${PARKED}', 'parked', 'g', 'start', 'interrupted', '{}', 'c1')`);
  await pool.query(
    `INSERT INTO ${t("interrupts")} (thread_id, id, run_id, graph_id, task_id, node, checkpoint_id)
     VALUES ('parked', 'ask-1', '${PARKED}', 'g', 't', 'ask', 'c1')`,
  );
}, 60_000);

afterAll(async () => {
  await pool?.end();
  await schema?.drop();
});

/** `n` threads parked at an interrupt each, beside the measured ones. */
async function waitingElsewhere(n: number): Promise<void> {
  const t = (name: string) => db.table(name);
  await pool.query(
    `INSERT INTO ${t("threads")} (id, graph_id, status) SELECT 'waiting-' || g, 'g', 'interrupted' FROM generate_series(1, $1::int) g`,
    [n],
  );
  await pool.query(
    `INSERT INTO ${t("interrupts")} (thread_id, id, run_id, graph_id, task_id, node, checkpoint_id, deadline)
     SELECT 'waiting-' || g, 'i', gen_random_uuid(), 'g', 't', 'ask', 'c', now() + interval '1 hour'
       FROM generate_series(1, $1::int) g`,
    [n],
  );
}

const interrupt = JSON.stringify([
  {
    thread_id: "mine",
    id: "ask-2",
    run_id: RUNNING,
    graph_id: "g",
    task_id: "t",
    node: "ask",
    checkpoint_id: "c2",
    value: null,
    options: {},
    timeout_ms: null,
  },
]);

/** What a producer and a worker do that looks up one thread's interrupts by status. */
const OPS: Record<string, Op> = {
  start: call(`SELECT * FROM "$fn".start_run('new', 'g', gen_random_uuid(), '{}', NULL, false)`),
  park: call(`SELECT * FROM "$fn".park_run($1, 'w', 'c2', 1, $2)`, [RUNNING, interrupt]),
  "cancel parked run": call(`SELECT * FROM "$fn".cancel_run($1, 'x')`, [PARKED]),
  "wait read": (_client, cdb) => getRunWithPending(cdb, PARKED),
  "thread's pending": (_client, cdb) =>
    cdb.pool.query(
      `SELECT * FROM ${cdb.table("interrupts")} WHERE thread_id = 'parked' AND status = 'pending'`,
    ),
};

it("a thread's interrupt lookups read the same pages with 10,000 pending on other threads", async () => {
  const without = await pagesReadByEach(pool, schema.name, OPS);
  await waitingElsewhere(PENDING);
  const loaded = await pagesReadByEach(pool, schema.name, OPS);
  // Reading the others' pending interrupts is 10,000 index entries: a hundred pages or more.
  const grown = Object.entries(loaded)
    .map(([name, pages]) => ({ name, without: without[name], loaded: pages }))
    .filter((op) => op.loaded - (op.without ?? 0) >= 20);
  expect(grown).toEqual([]);
}, 60_000);
