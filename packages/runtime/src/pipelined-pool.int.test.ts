// PipelinedPool against a real Postgres: statements pipelined on a few connections still get
// their own answers and their own failures, a lane that waits on a lock or loses its connection
// holds up no more than was already behind it, and end() leaves no connection open. What they
// wait for is what they would wait for on the plain pg.Pool it replaces: a statement's query
// timeout counts its own silence, not its wait behind others on a lane; a probe and the outage
// gate's question take a connection of their own; end() settles what waits for a lane to
// connect; named statements behind a failed Parse fail as it did.
import { randomUUID } from "node:crypto";
import type { Socket } from "node:net";
import { setTimeout as sleep } from "node:timers/promises";
import { getPostgres, tcpProxy } from "@layover/testing";
import type { Job } from "bullmq";
import pg from "pg";
import pino from "pino";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { connectPostgres } from "./connections.ts";
import { LANE_DEPTH, LANE_STALL_MS, PipelinedPool } from "./pipelined-pool.ts";
import { postgresOutageGate } from "./postgres-outage.ts";
import { postgresProbe, readinessCheck } from "./status-server.ts";

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
  await admin.query("SELECT pg_terminate_backend($1)", [pid]);
  expect(await sleeping).toBeInstanceOf(Error);
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

function track<P extends pg.Pool>(pool: P): P {
  pools.push(pool);
  return pool;
}

/** "answered", or "failed: <message>" — a promise that never rejects unhandled. */
const settledOf = (promise: Promise<unknown>): Promise<string> =>
  promise.then(
    () => "answered",
    (error: Error) => `failed: ${error.message}`,
  );

/** What `promise` came to within `ms`, or "never settled". */
const within = (promise: Promise<string>, ms: number): Promise<string> =>
  Promise.race([promise, sleep(ms).then(() => "never settled")]);

describe("query timeouts on lanes", () => {
  it("the outage gate's question, asked while both lanes run slow statements, is answered at once and fails none of them", async () => {
    // A worker's pool as createWorker builds it: two lanes, the default timeouts.
    const pool = track(connectPostgres(url, 4, {}, 2));
    // Two jobs' statements that take a while (2.5 s, far within statement_timeout), one per lane.
    const slow = [pool.query("SELECT pg_sleep(2.5)"), pool.query("SELECT pg_sleep(2.5)")].map(settledOf);
    // A third job failed with a connection error: the gate asks Postgres (query_timeout 2 s).
    const gate = postgresOutageGate(pool, () => undefined, pino({ level: "silent" }));
    const job = { moveToWait: async () => {} } as unknown as Job;
    try {
      const held = await gate.holdIfDown(
        new Error("Connection terminated unexpectedly"),
        job,
        "token",
        Date.now(),
      );
      // On a plain pool the question takes a connection of its own and is answered at once: the
      // job is not held (Postgres is up) and both statements are answered.
      expect({ held, slow: await Promise.all(slow) }).toEqual({
        held: false,
        slow: ["answered", "answered"],
      });
    } finally {
      gate.close();
      await Promise.all(slow);
    }
  });

  it("a write sent behind slow statements is answered: the time it waited on its lane is not its silence", async () => {
    // connectPostgres with a 1 s query timeout (statement_timeout 0.9 s).
    const pool = track(connectPostgres(url, 4, { queryTimeoutMs: 1_000 }, 2));
    const table = `lanes_${randomUUID().replaceAll("-", "").slice(0, 12)}`;
    await admin.query(`CREATE TABLE ${table} (id int)`);
    try {
      // Two statements of 0.7 s, within every timeout, one per lane; then a write of 0.4 s, also
      // within every timeout (on a pool it runs on a connection of its own and is answered).
      const slow = [pool.query("SELECT pg_sleep(0.7)"), pool.query("SELECT pg_sleep(0.7)")].map(settledOf);
      const write = settledOf(pool.query(`INSERT INTO ${table} SELECT 1 FROM pg_sleep(0.4)`));
      const results = await Promise.all([...slow, write]);
      await sleep(300); // whatever the server still ran, it finished
      const { rows } = await admin.query(`SELECT count(*)::int AS n FROM ${table}`);
      expect({ results, committed: rows[0].n }).toEqual({
        results: ["answered", "answered", "answered"],
        committed: 1,
      });
    } finally {
      await admin.query(`DROP TABLE ${table}`);
    }
  });
});

describe("a lane that goes silent", () => {
  it("fails every statement on it with 'Query read timeout' after query_timeout, and the next goes on a new lane", async () => {
    const proxy = await tcpProxy(url);
    try {
      const pool = track(connectPostgres(proxy.url, 4, { queryTimeoutMs: 500 }, 2));
      await pool.query("SELECT 1"); // a lane is up
      proxy.freeze(); // a network gone silent: nothing passes, nothing closes
      const started = Date.now();
      const results = await Promise.all([pool.query("SELECT 1"), pool.query("SELECT 2")].map(settledOf));
      expect(results).toEqual(["failed: Query read timeout", "failed: Query read timeout"]);
      expect(Date.now() - started).toBeLessThan(3_000);
      proxy.restore();
      expect((await pool.query("SELECT 3 AS n")).rows[0].n).toBe(3);
    } finally {
      await proxy.close();
    }
  });
});

describe("statements that must not wait behind others", () => {
  it("/readyz's Postgres probe is answered while lanes run slow statements", async () => {
    const pool = track(connectPostgres(url, 4, {}, 2));
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
    const pool = track(new PipelinedPool({ connectionString: url, max: 2 }, 2));
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
    const pool = track(new PipelinedPool({ connectionString: url, max: 2 }, 1));
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

describe("statements still on a lane it stops using", () => {
  it("end() while the network is silent: what is unanswered fails at query_timeout, and end() resolves", async () => {
    const proxy = await tcpProxy(url);
    try {
      const pool = connectPostgres(proxy.url, 4, { queryTimeoutMs: 500 }, 2);
      await pool.query("SELECT 1"); // a lane is up
      proxy.freeze();
      const statement = settledOf(pool.query("SELECT 2"));
      await sleep(50);
      const ended = settledOf(pool.end()); // a worker's or a client's close() at that moment
      expect({ statement: await within(statement, 3_000), ended: await within(ended, 3_000) }).toEqual({
        statement: "failed: Query read timeout",
        ended: "answered",
      });
    } finally {
      await proxy.close();
    }
  });

  it("a lane retired by a statement pg could not send keeps failing at query_timeout what waits on it", async () => {
    const holder = await admin.connect();
    const key = Math.floor(Math.random() * 2 ** 30);
    // One lane, a 500 ms query timeout and no statement_timeout (as behind PgBouncer).
    const pool = track(connectPostgres(url, 4, { queryTimeoutMs: 500, statementTimeoutMs: 0 }, 1));
    try {
      await holder.query("SELECT pg_advisory_lock($1)", [key]);
      await pool.query("SELECT 1"); // the lane is up
      const waiting = settledOf(pool.query("SELECT pg_advisory_xact_lock($1)", [key]));
      // A value pg cannot send fails in pg (no severity): the lane is retired with `waiting` on it.
      const unsendable = {
        toPostgres: () => {
          throw new Error("no value");
        },
      };
      expect(await settledOf(pool.query("SELECT $1::text", [unsendable]))).toBe("failed: no value");
      expect(await within(waiting, 3_000)).toBe("failed: Query read timeout");
    } finally {
      await holder.query("SELECT pg_advisory_unlock_all()");
      holder.release();
    }
  });
});
