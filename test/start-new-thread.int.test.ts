// start_run on a thread it creates (migrations/0022): the thread is inserted holding its run, and
// the steps only a thread that existed needs are skipped. These check that it answers and
// leaves the rows as the path of a thread that existed does, and that a second start of the
// same new id, waiting on the first's insert, takes that path once the first commits. (The
// pool holds 2 connections: the races use both and nothing else.)
import { randomUUID } from "node:crypto";
import type { Db } from "@layover/runtime";
import type { TestSchema } from "@layover/testing";
import type pg from "pg";
import { afterAll, beforeAll, expect, it } from "vitest";
import { costSchema } from "./support/page-cost.ts";

let schema: TestSchema;
let pool: pg.Pool;
let db: Db;

beforeAll(async () => {
  ({ schema, pool, db } = await costSchema("start_new_thread"));
});

afterAll(async () => {
  await pool.end();
  await schema.drop();
});

async function start(
  q: pg.Pool | pg.PoolClient,
  thread: string,
  options: { graph?: string; key?: string | null; enqueue?: boolean } = {},
) {
  const run = randomUUID();
  const { rows } = await q.query(
    `SELECT * FROM ${db.table("start_run")}($1, $2, $3, '{"input":{}}', $4, $5)`,
    [thread, options.graph ?? "g", run, options.key ?? null, options.enqueue ?? false],
  );
  return { run, row: rows[0] };
}

it("creates a new thread holding its run: busy, the run pending, idle before it", async () => {
  const { run, row } = await start(pool, "fresh");
  expect(row).toEqual({ outcome: "started", run_id: run, thread_status: "idle", thread_graph: "g" });
  const thread = await pool.query(
    `SELECT status, current_run_id, graph_id FROM ${db.table("threads")} WHERE id = 'fresh'`,
  );
  expect(thread.rows).toEqual([{ status: "busy", current_run_id: run, graph_id: "g" }]);
  const runs = await pool.query(`SELECT id, kind, status FROM ${db.table("runs")} WHERE thread_id = 'fresh'`);
  expect(runs.rows).toEqual([{ id: run, kind: "start", status: "pending" }]);
});

it("a start of a thread that exists takes the path of 0005: busy, queued, wrong graph", async () => {
  const first = await start(pool, "twice");
  expect(first.row.outcome).toBe("started");
  expect((await start(pool, "twice")).row).toMatchObject({ outcome: "busy", thread_status: "busy" });
  const queued = await start(pool, "twice", { enqueue: true });
  expect(queued.row).toMatchObject({ outcome: "queued", run_id: queued.run });
  expect((await start(pool, "twice", { graph: "other" })).row).toMatchObject({
    outcome: "wrong_graph",
    thread_graph: "g",
  });
});

it("a new thread's idempotency key finds its run on a retry", async () => {
  const first = await start(pool, "keyed", { key: "k1" });
  expect(first.row.outcome).toBe("started");
  const again = await start(pool, "keyed", { key: "k1" });
  expect(again.row).toMatchObject({ outcome: "existing", run_id: first.run });
});

it("a second start of the same new id waits for the first, then finds the thread busy", async () => {
  const a = await pool.connect();
  const b = await pool.connect();
  try {
    await a.query("BEGIN");
    const first = await start(a, "raced");
    expect(first.row.outcome).toBe("started");
    const second = start(b, "raced", { enqueue: true });
    await new Promise((resolve) => setTimeout(resolve, 100));
    await a.query("COMMIT");
    const queued = await second;
    expect(queued.row).toMatchObject({ outcome: "queued", thread_status: "busy" });
    const thread = await b.query(`SELECT current_run_id FROM ${db.table("threads")} WHERE id = 'raced'`);
    expect(thread.rows[0].current_run_id).toBe(first.run);
  } finally {
    await a.query("ROLLBACK").catch(() => undefined);
    a.release();
    b.release();
  }
});

it("a second start of a new id whose first start rolled back creates the thread itself", async () => {
  const a = await pool.connect();
  const b = await pool.connect();
  try {
    await a.query("BEGIN");
    await start(a, "undone");
    const second = start(b, "undone");
    await new Promise((resolve) => setTimeout(resolve, 100));
    await a.query("ROLLBACK");
    const started = await second;
    expect(started.row).toMatchObject({ outcome: "started", run_id: started.run, thread_status: "idle" });
  } finally {
    a.release();
    b.release();
  }
});
