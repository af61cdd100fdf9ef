// PipelinedPool against a real Postgres: statements pipelined on a few connections still get
// their own answers and their own failures, a lane that waits on a lock or loses its connection
// holds up no more than was already behind it, and end() leaves no connection open. A probe
// takes a connection of its own; end() settles what waits for a lane to connect; named
// statements behind a failed Parse fail as it did. (Silent networks and query timeouts:
// pipelined-pool-silence.int.test.ts.)
import type { Socket } from "node:net";
import type pg from "pg";
import { describe, expect, it } from "vitest";
import { connectPostgres } from "./connections.ts";
import { LANE_DEPTH, PipelinedPool } from "./pipelined-pool.ts";
import { postgresProbe, readinessCheck } from "./status-server.ts";
import { eventually, laneTests, settledOf, within } from "./test-support/lanes.ts";

const { url, track, pipelined, backends, admin } = laneTests();

type Row = { pid: number; n: number };
const numbered = (pool: pg.Pool, n: number) =>
  pool.query<Row>("SELECT pg_backend_pid() AS pid, $1::int AS n", [n]).then((r) => r.rows[0] as Row);

it("answers each of many statements sent at once with its own result, on the lanes' two backends", async () => {
  const { pool } = pipelined();
  const rows = await Promise.all(Array.from({ length: 2 * LANE_DEPTH }, (_, n) => numbered(pool, n)));
  expect(rows.map((row) => row.n)).toEqual(Array.from({ length: 2 * LANE_DEPTH }, (_, n) => n));
  expect(new Set(rows.map((row) => row.pid)).size).toBe(2);
  expect(pool.laneConnections).toBe(2);
  expect(pool.totalCount).toBe(0); // no pooled connection was needed
  expect(pool.spilled).toBe(0);
});

it("writes the statements sent in one turn to each lane at once, each still answered or failed as itself", async () => {
  const { pool } = pipelined();
  await Promise.all([numbered(pool, 0), numbered(pool, 1)]); // both lanes connected
  let writes = 0;
  for (const lane of (pool as unknown as { lanes: { client: { connection: { stream: Socket } } }[] }).lanes) {
    const stream = lane.client.connection.stream;
    for (const method of ["_write", "_writev"] as const) {
      const original = stream[method] as (...args: unknown[]) => void;
      stream[method] = ((...args: unknown[]) => {
        writes += 1;
        original.apply(stream, args);
      }) as never;
    }
  }
  const sent = Array.from({ length: LANE_DEPTH }, (_, n) =>
    n === 3 ? pool.query("SELECT 1 / 0") : numbered(pool, n).then((row) => row.n),
  );
  const settled = await Promise.allSettled(sent);
  expect(settled.map((s) => (s.status === "fulfilled" ? s.value : (s.reason as Error).message))).toEqual([
    0,
    1,
    2,
    "division by zero",
    4,
    5,
    6,
    7,
  ]);
  expect(writes).toBe(2); // one per lane, where pg writes each statement on its own
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
  expect(pool.spilled).toBe(1);
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

it("keeps its lanes through statements' own failures on a server whose messages are not English", async (ctx) => {
  // A German server says FEHLER, not ERROR. Before, each such failure retired its lane: a reconnect per error.
  const german = new URL(url());
  german.searchParams.set("options", "-c lc_messages=de_DE.UTF-8");
  const probe = await admin()
    .query("SELECT set_config('lc_messages', 'de_DE.UTF-8', true)")
    .then(
      () => true,
      () => false,
    );
  if (!probe) ctx.skip("the server has no de_DE.UTF-8 locale (locale-gen de_DE.UTF-8, then restart it)");
  const pool = track(new PipelinedPool({ connectionString: german.toString(), max: 4 }, 2));
  const before = new Set((await Promise.all([1, 2, 3, 4].map((n) => numbered(pool, n)))).map((r) => r.pid));
  const failed = await Promise.allSettled(Array.from({ length: 6 }, () => pool.query("SELECT 1 / 0")));
  expect(failed[0]).toMatchObject({ status: "rejected", reason: { severity: "FEHLER", code: "22012" } });
  const after = await Promise.all([1, 2, 3, 4].map((n) => numbered(pool, n)));
  expect(new Set(after.map((r) => r.pid))).toEqual(before);
  expect(pool.laneConnections).toBe(2);
});

it("keeps statements off a lane stalled on a lock: they are answered while it waits", async () => {
  const { pool } = pipelined();
  const holder = await admin().connect();
  const key = Math.floor(Math.random() * 2 ** 30);
  try {
    await holder.query("SELECT pg_advisory_lock($1)", [key]);
    let waited = false;
    const blocked = pool.query("SELECT pg_advisory_xact_lock($1)", [key]).then(() => {
      waited = true;
    });
    // Past LANE_STALL_MS beyond the lane's round trip (until it answers, its handshake's time).
    await new Promise((resolve) => setTimeout(resolve, 300));
    const rows = await Promise.all(Array.from({ length: 2 * LANE_DEPTH }, (_, n) => numbered(pool, n)));
    expect(rows.map((row) => row.n)).toEqual(Array.from({ length: 2 * LANE_DEPTH }, (_, n) => n));
    expect(waited).toBe(false); // every one was answered while the lock was still held
    expect(pool.spilled).toBeGreaterThan(0); // those the other lane could not hold
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
  // Its failure is caught as it comes (it may come before the expectation below is made).
  const sleeping = pool.query("SELECT pg_sleep(30)").then(
    () => "answered",
    (error: Error) => error,
  );
  await new Promise((resolve) => setTimeout(resolve, 50));
  await admin().query("SELECT pg_terminate_backend($1)", [pid]);
  expect(await sleeping).toBeInstanceOf(Error);
  const after = await Promise.all(Array.from({ length: 4 }, (_, n) => numbered(pool, n)));
  expect(after.map((row) => row.n)).toEqual([0, 1, 2, 3]);
  expect(after.map((row) => row.pid)).not.toContain(pid);
  expect(pool.laneConnections).toBeLessThanOrEqual(2);
});

it("fails a statement it cannot connect for, and every later one, rather than waiting", async () => {
  const pool = track(
    new PipelinedPool({ connectionString: "postgres://postgres@127.0.0.1:1/none", max: 2 }, 2),
  );
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
  await eventually(async () => (await backends(appName)) === 0, "every backend of the pool ends");
  await expect(pool.query("SELECT 1")).rejects.toThrow(/after calling end/);
});

describe("statements that must not wait behind others", () => {
  it("/readyz's Postgres probe is answered while lanes run slow statements", async () => {
    const pool = track(connectPostgres(url(), 4, {}, 2));
    const slow = [pool.query("SELECT pg_sleep(2.5)"), pool.query("SELECT pg_sleep(2.5)")].map(settledOf);
    try {
      const ready = readinessCheck({ state: () => "running", probes: { postgres: postgresProbe(pool) } });
      // On a plain pool the probe takes a spare connection of the pool: Postgres answers at once.
      expect(await ready()).toMatchObject({ status: "ready", checks: { postgres: "ok" } });
    } finally {
      await Promise.all(slow);
    }
  });
});

describe("end()", () => {
  it("settles a statement whose lane is still connecting when end() is called", async () => {
    const pool = track(new PipelinedPool({ connectionString: url(), max: 2 }, 2));
    const statement = settledOf(pool.query("SELECT 1 AS one"));
    const ended = pool.end();
    // As a plain pool answers it (end() waits for it): pg's Client.connect() would never settle
    // were Client.end() called while it connects, nor would what waits for the lane.
    expect(await within(statement, 3_000)).not.toBe("never settled");
    await within(settledOf(ended), 1_000);
  });
});

describe("named (prepared) statements", () => {
  it("named statements pipelined behind one whose Parse failed fail with that error (42P01), not 26000", async () => {
    const pool = track(new PipelinedPool({ connectionString: url(), max: 2 }, 1));
    const named = () =>
      pool.query({ name: "lanes_missing", text: "SELECT * FROM lanes_no_such_table" }).then(
        () => "answered",
        (error: { code?: string }) => error.code,
      );
    // As on a pool, where each parses it for itself: 42P01 (undefined table: "schema missing" to
    // the saver). Pipelined, the followers skip Parse (pg counts it submitted) and get 26000 for
    // their Bind, which the pool sends again on a connection of its own.
    expect(await Promise.all([named(), named(), named()])).toEqual(["42P01", "42P01", "42P01"]);
  });
});
