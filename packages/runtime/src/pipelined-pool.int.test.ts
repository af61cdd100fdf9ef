// PipelinedPool against a real Postgres: statements pipelined on a few connections still get
// their own answers and their own failures, a lane that waits on a lock or loses its connection
// holds up no more than was already behind it, and end() leaves no connection open.
import { randomUUID } from "node:crypto";
import { getPostgres } from "@layover/testing";
import pg from "pg";
import { afterAll, afterEach, beforeAll, expect, it } from "vitest";
import { LANE_DEPTH, LANE_STALL_MS, PipelinedPool } from "./pipelined-pool.ts";

let url: string;
let admin: pg.Pool;
const pools: pg.Pool[] = [];

beforeAll(async () => {
  url = await getPostgres();
  admin = new pg.Pool({ connectionString: url, max: 2 });
});
afterEach(async () => {
  await Promise.all(pools.splice(0).map((pool) => pool.end().catch(() => undefined)));
});
afterAll(async () => {
  await admin.end();
});

/** A PipelinedPool of two lanes whose connections carry an application_name of their own. */
function pipelined(): { pool: PipelinedPool; appName: string } {
  const appName = `pipelined-${randomUUID().slice(0, 8)}`;
  const withName = new URL(url);
  withName.searchParams.set("application_name", appName);
  const pool = new PipelinedPool({ connectionString: withName.toString(), max: 4 }, 2);
  pools.push(pool);
  return { pool, appName };
}

type Row = { pid: number; n: number };
const numbered = (pool: pg.Pool, n: number) =>
  pool.query<Row>("SELECT pg_backend_pid() AS pid, $1::int AS n", [n]).then((r) => r.rows[0] as Row);

const backends = async (appName: string) =>
  Number(
    (await admin.query("SELECT count(*) AS n FROM pg_stat_activity WHERE application_name = $1", [appName]))
      .rows[0].n,
  );

it("answers each of many statements sent at once with its own result, on the lanes' two backends", async () => {
  const { pool } = pipelined();
  const rows = await Promise.all(Array.from({ length: 2 * LANE_DEPTH }, (_, n) => numbered(pool, n)));
  expect(rows.map((row) => row.n)).toEqual(Array.from({ length: 2 * LANE_DEPTH }, (_, n) => n));
  expect(new Set(rows.map((row) => row.pid)).size).toBe(2);
  expect(pool.laneConnections).toBe(2);
  expect(pool.totalCount).toBe(0); // no pooled connection was needed
});

it("prepares a named statement once per lane though many ask for it at once", async () => {
  const { pool } = pipelined();
  const named = (n: number) =>
    pool.query({ name: "pipelined_named", text: "SELECT $1::int * 2 AS d", values: [n] });
  const results = await Promise.all(Array.from({ length: 12 }, (_, n) => named(n)));
  expect(results.map((r) => r.rows[0].d)).toEqual(Array.from({ length: 12 }, (_, n) => n * 2));
});

it("sends a statement beyond what the lanes hold on a pooled connection", async () => {
  const { pool } = pipelined();
  const rows = await Promise.all(Array.from({ length: 2 * LANE_DEPTH + 1 }, (_, n) => numbered(pool, n)));
  expect(new Set(rows.map((row) => row.pid)).size).toBe(3);
  expect(pool.totalCount).toBe(1);
});

it("fails a failing statement alone: those pipelined around it get their answers", async () => {
  const { pool } = pipelined();
  const settled = await Promise.allSettled(
    Array.from({ length: 10 }, (_, n) => (n === 3 ? pool.query("SELECT 1 / 0") : numbered(pool, n))),
  );
  expect(settled[3]).toMatchObject({ status: "rejected", reason: { code: "22012" } });
  for (const [n, result] of settled.entries())
    if (n !== 3) expect(result).toMatchObject({ status: "fulfilled", value: { n } });
});

it("keeps statements off a lane stalled on a lock: they are answered while it waits", async () => {
  const { pool } = pipelined();
  const holder = await admin.connect();
  const key = Math.floor(Math.random() * 2 ** 30);
  try {
    await holder.query("SELECT pg_advisory_lock($1)", [key]);
    let waited = false;
    const blocked = pool.query("SELECT pg_advisory_xact_lock($1)", [key]).then(() => {
      waited = true;
    });
    await new Promise((resolve) => setTimeout(resolve, 5 * LANE_STALL_MS));
    const rows = await Promise.all(Array.from({ length: 2 * LANE_DEPTH }, (_, n) => numbered(pool, n)));
    expect(rows.map((row) => row.n)).toEqual(Array.from({ length: 2 * LANE_DEPTH }, (_, n) => n));
    expect(waited).toBe(false); // every one was answered while the lock was still held
    await holder.query("SELECT pg_advisory_unlock($1)", [key]);
    await blocked;
    expect(waited).toBe(true);
  } finally {
    await holder.query("SELECT pg_advisory_unlock_all()");
    holder.release();
  }
});

it("fails the statements of a lane whose connection is killed, and opens another for the next", async () => {
  const { pool } = pipelined();
  const { pid } = await numbered(pool, 0);
  const sleeping = pool.query("SELECT pg_sleep(30)");
  await new Promise((resolve) => setTimeout(resolve, 50));
  await admin.query("SELECT pg_terminate_backend($1)", [pid]);
  await expect(sleeping).rejects.toThrow();
  const after = await Promise.all(Array.from({ length: 4 }, (_, n) => numbered(pool, n)));
  expect(after.map((row) => row.n)).toEqual([0, 1, 2, 3]);
  expect(after.map((row) => row.pid)).not.toContain(pid);
  expect(pool.laneConnections).toBeLessThanOrEqual(2);
});

it("fails a statement it cannot connect for, and every later one, rather than waiting", async () => {
  const pool = new PipelinedPool({ connectionString: "postgres://postgres@127.0.0.1:1/none", max: 2 }, 2);
  pools.push(pool);
  await expect(pool.query("SELECT 1")).rejects.toMatchObject({ code: "ECONNREFUSED" });
  await expect(pool.query("SELECT 1")).rejects.toMatchObject({ code: "ECONNREFUSED" });
  expect(pool.laneConnections).toBe(0);
});

it("keeps transactions on pooled connections, and end() closes lanes and pool alike", async () => {
  const { pool, appName } = pipelined();
  const { pid: lanePid } = await numbered(pool, 0);
  const client = await pool.connect();
  try {
    await client.query("BEGIN");
    const { rows } = await client.query<{ pid: number }>("SELECT pg_backend_pid() AS pid");
    expect(rows[0]?.pid).not.toBe(lanePid);
    await client.query("COMMIT");
  } finally {
    client.release();
  }
  expect(await backends(appName)).toBe(2);
  await pool.end();
  const deadline = Date.now() + 5_000;
  while ((await backends(appName)) > 0 && Date.now() < deadline)
    await new Promise((resolve) => setTimeout(resolve, 20));
  expect(await backends(appName)).toBe(0);
  await expect(pool.query("SELECT 1")).rejects.toThrow(/after calling end/);
});
