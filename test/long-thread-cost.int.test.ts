// What a thread's transitions cost Postgres once it has a long past: the same pages for a thread
// that was parked and resumed 5,000 times as for one resumed 10 times (migrations/0011). Before,
// two reads walked the thread's whole history:
//  * a job's read of its run (every job of a resume or continue without a context of its own),
//    for the context of the thread's latest start: it stepped back through every resume since;
//  * runs.cancel of a parked run (cancel_run): "the interrupted run updated last" sorted every
//    run the thread ever parked.
// The rows are laid out as a busy deployment writes them: each round of the thread's runs and
// interrupts interleaved with those of other threads, so its rows are on different pages.
import { randomUUID } from "node:crypto";
import { type Db, readJobRun } from "@layover/runtime";
import type { TestSchema } from "@layover/testing";
import type pg from "pg";
import { afterAll, beforeAll, expect, it } from "vitest";
import { costSchema, type Op, pagesRead } from "./support/page-cost.ts";

const SHORT = 10;
const LONG = 5_000;
/** Threads whose rounds interleave with the measured thread's. */
const NEIGHBOURS = 19;

let schema: TestSchema;
let pool: pg.Pool;
let db: Db;

beforeAll(async () => {
  ({ schema, pool, db } = await costSchema("long_thread_cost"));
}, 60_000);

afterAll(async () => {
  await pool?.end();
  await schema?.drop();
});

/**
 * Threads `prefix`0…NEIGHBOURS: each started once (with a context), then parked and resumed
 * `rounds` times, round by round; thread `prefix`0 is parked now by run `parked` (a resume given
 * no context), waiting for interrupt "now".
 */
async function threads(prefix: string, rounds: number): Promise<string> {
  const t = (name: string) => db.table(name);
  const parked = randomUUID();
  await pool.query(
    `INSERT INTO ${t("threads")} (id, graph_id, status) SELECT $1 || k, 'g', 'interrupted' FROM generate_series(0, $2::int) k`,
    [prefix, NEIGHBOURS],
  );
  await pool.query(
    `INSERT INTO ${t("runs")} (id, thread_id, graph_id, kind, status, input, started_at, created_at, updated_at)
     SELECT gen_random_uuid(), $1 || k, 'g', CASE WHEN g = 0 THEN 'start' ELSE 'resume' END, 'interrupted',
            CASE WHEN g = 0 THEN '{"input": {}, "config": {"context": {"user": 1}}}'::jsonb ELSE '{"resume": {}}'::jsonb END,
            at, at, at
       FROM generate_series(0, $2::int) g, generate_series(0, $3::int) k,
            LATERAL (SELECT now() - interval '30 days' + g * interval '1 minute' AS at) x
      ORDER BY g, k`,
    [prefix, rounds, NEIGHBOURS],
  );
  await pool.query(
    `INSERT INTO ${t("interrupts")} (thread_id, id, run_id, graph_id, task_id, node, checkpoint_id, status,
                                     resolved_by, resolved_at, created_at)
     SELECT $1 || k, 'ask-' || g, gen_random_uuid(), 'g', 't', 'ask', 'c', 'resolved', 'a person', at, at
       FROM generate_series(1, $2::int) g, generate_series(0, $3::int) k,
            LATERAL (SELECT now() - interval '30 days' + g * interval '1 minute' AS at) x
      ORDER BY g, k`,
    [prefix, rounds, NEIGHBOURS],
  );
  await pool.query(
    `INSERT INTO ${t("runs")} (id, thread_id, graph_id, kind, status, input, started_at, checkpoint_id)
     VALUES ($1, $2 || 0, 'g', 'resume', 'interrupted', '{"resume": {}}', now(), 'c')`,
    [parked, prefix],
  );
  await pool.query(`UPDATE ${t("threads")} SET current_run_id = $1 WHERE id = $2 || 0`, [parked, prefix]);
  await pool.query(
    `INSERT INTO ${t("interrupts")} (thread_id, id, run_id, graph_id, task_id, node, checkpoint_id)
     VALUES ($2 || 0, 'now', $1, 'g', 't', 'ask', 'c')`,
    [parked, prefix],
  );
  return parked;
}

function opsOn(parked: string): Record<string, Op> {
  return {
    "job read": (_client, cdb) => readJobRun(cdb, parked),
    "cancel parked run": (client, cdb) =>
      client.query(`SELECT * FROM ${cdb.table("cancel_run")}($1, 'x')`, [parked]),
  };
}

it("a thread resumed 5,000 times reads the same pages per transition as one resumed 10 times", async () => {
  const short = await threads("short-", SHORT);
  const long = await threads("long-", LONG);
  for (const table of ["threads", "runs", "interrupts"])
    await pool.query(`VACUUM ANALYZE ${db.table(table)}`);
  const shortOps = opsOn(short);
  const longOps = opsOn(long);
  const grown = [];
  for (const name of Object.keys(shortOps)) {
    const pages = {
      short: await pagesRead(pool, schema.name, shortOps[name] as Op),
      long: await pagesRead(pool, schema.name, longOps[name] as Op),
    };
    if (pages.long - pages.short >= 20) grown.push({ name, ...pages });
  }
  expect(grown).toEqual([]);
}, 120_000);
