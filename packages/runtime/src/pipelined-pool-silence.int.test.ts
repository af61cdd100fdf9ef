// PipelinedPool where Postgres goes quiet: a statement's query timeout counts its own silence,
// not its wait behind others on a lane, and the outage gate's question takes a connection of its
// own; a lane that answers nothing fails what is on it at query_timeout, takes its idle siblings
// with it (open through the same silence, they may be dead too), and an idle lane closes after
// the pool's idleTimeoutMillis, as its pooled connections do. A distant server's silence between
// a statement and its answer is its round trip, not a stall.
import { randomUUID } from "node:crypto";
import { setTimeout as sleep } from "node:timers/promises";
import type { Job } from "bullmq";
import type pg from "pg";
import pino from "pino";
import { describe, expect, it } from "vitest";
import { connectPostgres } from "./connections.ts";
import { LANE_STALL_MS, PipelinedPool } from "./pipelined-pool.ts";
import { postgresOutageGate } from "./postgres-outage.ts";
import { eventually, laneTests, settledOf, within } from "./test-support/lanes.ts";

const { url, track, backends, admin, proxied } = laneTests();

describe("query timeouts on lanes", () => {
  it("the outage gate's question, asked while both lanes run slow statements, is answered at once and fails none of them", async () => {
    // A worker's pool as createWorker builds it: two lanes, the default timeouts.
    const pool = track(connectPostgres(url(), 4, {}, 2));
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
    const pool = track(connectPostgres(url(), 4, { queryTimeoutMs: 1_000 }, 2));
    const table = `lanes_${randomUUID().replaceAll("-", "").slice(0, 12)}`;
    await admin().query(`CREATE TABLE ${table} (id int)`);
    try {
      // Two statements of 0.7 s, within every timeout, one per lane; then a write of 0.4 s, also
      // within every timeout (on a pool it runs on a connection of its own and is answered).
      const slow = [pool.query("SELECT pg_sleep(0.7)"), pool.query("SELECT pg_sleep(0.7)")].map(settledOf);
      const write = settledOf(pool.query(`INSERT INTO ${table} SELECT 1 FROM pg_sleep(0.4)`));
      const results = await Promise.all([...slow, write]);
      await sleep(300); // whatever the server still ran, it finished
      const { rows } = await admin().query(`SELECT count(*)::int AS n FROM ${table}`);
      expect({ results, committed: rows[0].n }).toEqual({
        results: ["answered", "answered", "answered"],
        committed: 1,
      });
    } finally {
      await admin().query(`DROP TABLE ${table}`);
    }
  });
});

describe("a lane that goes silent", () => {
  it("fails every statement on it with 'Query read timeout' after query_timeout, and the next goes on a new lane", async () => {
    const proxy = await proxied();
    const pool = track(connectPostgres(proxy.url, 4, { queryTimeoutMs: 500 }, 2));
    await pool.query("SELECT 1"); // a lane is up
    proxy.freeze(); // a network gone silent: nothing passes, nothing closes
    const started = Date.now();
    const results = await Promise.all([pool.query("SELECT 1"), pool.query("SELECT 2")].map(settledOf));
    expect(results).toEqual(["failed: Query read timeout", "failed: Query read timeout"]);
    expect(Date.now() - started).toBeLessThan(3_000);
    proxy.restore();
    expect((await pool.query("SELECT 3 AS n")).rows[0].n).toBe(3);
  });
});

describe("lanes still connecting", () => {
  it("take no statement a connected lane can take: it does not wait on a handshake that may be lost", async () => {
    const proxy = await proxied();
    const pool = track(connectPostgres(proxy.url, 4, { queryTimeoutMs: 1_000 }, 2));
    await pool.query("SELECT 1"); // lane A up
    const busyA = settledOf(pool.query("SELECT pg_sleep(0.3)"));
    await sleep(3 * LANE_STALL_MS); // A is stalled on it: the next statement opens lane B
    proxy.freeze();
    const onB = settledOf(pool.query("SELECT 2")); // opens B: its startup message is lost
    await sleep(50);
    proxy.restore(); // the network is back; B's handshake was lost in the freeze, A's answer was not
    expect(await busyA).toBe("answered");
    // A is up, idle and answering; B still waits for an answer to its startup message.
    const later = await Promise.all(
      ["SELECT 3", "SELECT 4", "SELECT 5", "SELECT 6"].map((sql) => settledOf(pool.query(sql))),
    );
    expect(later).toEqual(["answered", "answered", "answered", "answered"]);
    await onB;
  });

  it("take the statements sent while they connect (a distant server): none goes to the pool for it", async () => {
    const proxy = await proxied();
    proxy.slow(30); // each way: a connection takes several round trips, well over LANE_STALL_MS
    const pool = track(new PipelinedPool({ connectionString: proxy.url, max: 4 }, 2));
    const first = [pool.query("SELECT 1"), pool.query("SELECT 2")].map(settledOf); // opens both lanes
    await sleep(3 * LANE_STALL_MS); // still connecting
    const later = [pool.query("SELECT 3"), pool.query("SELECT 4")].map(settledOf);
    expect(await Promise.all([...first, ...later])).toEqual(["answered", "answered", "answered", "answered"]);
    expect({ spilled: pool.spilled, pooled: pool.totalCount, lanes: pool.laneConnections }).toEqual({
      spilled: 0,
      pooled: 0,
      lanes: 2,
    });
    await pool.end();
  });
});

describe("lanes that may be dead without a statement to show it", () => {
  it("a lane found silent takes the idle lanes with it: after the network returns, no statement waits on a connection that went silent", async () => {
    const proxy = await proxied();
    const pool = track(connectPostgres(proxy.url, 4, { queryTimeoutMs: 500 }, 2));
    await Promise.all([pool.query("SELECT 1"), pool.query("SELECT 2")]); // both lanes up
    proxy.freeze();
    // Sent on one lane while the other has nothing to wait for: only the first is seen silent.
    expect(await settledOf(pool.query("SELECT 3"))).toBe("failed: Query read timeout");
    // The network returns, but what was open through the silence stays silent (a NAT entry gone).
    proxy.restore({ keepFrozen: true });
    const after = await Promise.all([pool.query("SELECT 4"), pool.query("SELECT 5")].map(settledOf));
    expect(after).toEqual(["answered", "answered"]);
  });

  it("end() settles when a lane retired beside a silent one lost its connection with the network", async () => {
    const proxy = await proxied();
    const pool = track(connectPostgres(proxy.url, 4, { queryTimeoutMs: 500 }, 2));
    await Promise.all([pool.query("SELECT 1"), pool.query("SELECT 2")]); // both lanes up
    // Both connections gone without a trace (no FIN, no close passes); new ones pass.
    proxy.freeze();
    proxy.restore({ keepFrozen: true });
    expect(await settledOf(pool.query("SELECT 3"))).toBe("failed: Query read timeout");
    expect(await settledOf(pool.query("SELECT 4"))).toBe("answered");
    // The idle lane retired beside the silent one waits for its close to be answered: it never is.
    expect(await within(settledOf(pool.end()), 3_000)).toBe("answered");
  });

  it("end() settles when lanes closed for idleness had lost their connections with the network", async () => {
    const proxy = await proxied();
    const config = { connectionString: proxy.url, max: 4, query_timeout: 500, idleTimeoutMillis: 1_000 };
    const pool = track(new PipelinedPool(config as pg.PoolConfig, 2));
    await Promise.all([pool.query("SELECT 1"), pool.query("SELECT 2")]);
    proxy.freeze();
    proxy.restore({ keepFrozen: true });
    await eventually(() => pool.laneConnections === 0, "both idle lanes are retired");
    expect(await settledOf(pool.query("SELECT 3"))).toBe("answered"); // on a new lane
    expect(await within(settledOf(pool.end()), 3_000)).toBe("answered");
  });

  it("closes a lane idle for the pool's idleTimeoutMillis, as the pool closes its idle connections", async () => {
    const appName = `pipelined-idle-${randomUUID().slice(0, 8)}`;
    const withName = new URL(url());
    withName.searchParams.set("application_name", appName);
    const pool = track(
      new PipelinedPool({ connectionString: withName.toString(), max: 4, idleTimeoutMillis: 1_000 }, 2),
    );
    await Promise.all([pool.query("SELECT 1"), pool.query("SELECT 2")]);
    expect(pool.laneConnections).toBe(2);
    await sleep(600);
    await pool.query("SELECT 3"); // one lane used again: idle from now
    await eventually(() => pool.laneConnections === 1, "the lane idle since the start closes first");
    await eventually(() => pool.laneConnections === 0, "then the other");
    await eventually(async () => (await backends(appName)) === 0, "their backends end");
    expect((await pool.query("SELECT 4 AS n")).rows[0].n).toBe(4); // a lane opens again
  });

  it("keeps idle lanes open when idleTimeoutMillis is 0, as the pool keeps its connections", async () => {
    const pool = track(new PipelinedPool({ connectionString: url(), max: 4, idleTimeoutMillis: 0 }, 2));
    await Promise.all([pool.query("SELECT 1"), pool.query("SELECT 2")]);
    await sleep(500);
    expect(pool.laneConnections).toBe(2);
  });
});

describe("statements still on a lane it stops using", () => {
  it("end() while the network is silent: what is unanswered fails at query_timeout, and end() resolves", async () => {
    const proxy = await proxied();
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
  });

  it("a lane retired by a statement pg could not send keeps failing at query_timeout what waits on it", async () => {
    const holder = await admin().connect();
    const key = Math.floor(Math.random() * 2 ** 30);
    // One lane, a 500 ms query timeout and no statement_timeout (as behind PgBouncer).
    const pool = track(connectPostgres(url(), 4, { queryTimeoutMs: 500, statementTimeoutMs: 0 }, 1));
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

describe("a distant server", () => {
  it("counts a lane stalled only past its round trip: statements pipelined to a server 60 ms away stay on the lanes", async () => {
    const proxy = await proxied();
    proxy.slow(30); // each way: a round trip of 60 ms, three times LANE_STALL_MS
    const pool = track(connectPostgres(proxy.url, 4, {}, 2) as PipelinedPool);
    await Promise.all([pool.query("SELECT 1"), pool.query("SELECT 2")]); // both lanes up and answering
    const first = ["SELECT 3", "SELECT 4", "SELECT 5", "SELECT 6"].map((sql) => settledOf(pool.query(sql)));
    await sleep(45); // past LANE_STALL_MS twice over, while their answers are still on their way back
    const later = ["SELECT 7", "SELECT 8", "SELECT 9", "SELECT 10"].map((sql) => settledOf(pool.query(sql)));
    expect(await Promise.all([...first, ...later])).toEqual(Array(8).fill("answered"));
    expect({ spilled: pool.spilled, pooled: pool.totalCount }).toEqual({ spilled: 0, pooled: 0 });
  });

  it("knows the round trip from the handshake: statements sent while the first answers are on their way back stay on the lanes", async () => {
    const proxy = await proxied();
    proxy.slow(30);
    const pool = track(connectPostgres(proxy.url, 4, {}, 2) as PipelinedPool);
    pool.on("error", () => {}); // a pooled connection it would spill to ends with the test
    // A worker's first burst (or its first after the lanes closed idle, or after a failover).
    const first = ["SELECT 1", "SELECT 2", "SELECT 3", "SELECT 4"].map((sql) => settledOf(pool.query(sql)));
    // Both lanes connected (what the pool keeps of them, read here only to know when).
    const lanes = (pool as unknown as { lanes: { connected: boolean }[] }).lanes;
    await eventually(
      () => lanes.length === 2 && lanes.every((lane) => lane.connected),
      "both lanes connected",
    );
    await sleep(45); // past LANE_STALL_MS twice over, while the first answers are still on their way back
    const later = ["SELECT 5", "SELECT 6", "SELECT 7", "SELECT 8"].map((sql) => settledOf(pool.query(sql)));
    expect(await Promise.all([...first, ...later])).toEqual(Array(8).fill("answered"));
    expect({ spilled: pool.spilled, pooled: pool.totalCount }).toEqual({ spilled: 0, pooled: 0 });
  });

  it("learns the round trip again on new connections: after a failover to a distant server, its statements stay on the lanes", async () => {
    const proxy = await proxied();
    const pool = track(connectPostgres(proxy.url, 4, {}, 2) as PipelinedPool);
    await Promise.all([pool.query("SELECT 1"), pool.query("SELECT 2")]); // a server close by
    proxy.cut(); // it fails; the lanes' connections go
    await eventually(() => pool.laneConnections === 0, "the lanes dropped");
    proxy.slow(30); // its replacement is 60 ms away
    proxy.restore();
    await Promise.all([pool.query("SELECT 3"), pool.query("SELECT 4")]); // new lanes, answering
    const first = ["SELECT 5", "SELECT 6", "SELECT 7", "SELECT 8"].map((sql) => settledOf(pool.query(sql)));
    await sleep(45);
    const later = ["SELECT 9", "SELECT 10", "SELECT 11", "SELECT 12"].map((sql) =>
      settledOf(pool.query(sql)),
    );
    expect(await Promise.all([...first, ...later])).toEqual(Array(8).fill("answered"));
    expect({ spilled: pool.spilled, pooled: pool.totalCount }).toEqual({ spilled: 0, pooled: 0 });
  });

  it("a lane whose first answers came slowly (a lock wait) is still seen stalled within the handshake's time when it waits again", async () => {
    const holder = await admin().connect();
    const key = Math.floor(Math.random() * 2 ** 30);
    const pool = track(connectPostgres(url(), 4, {}, 2) as PipelinedPool);
    pool.on("error", () => {}); // the pooled connection it spills to ends with the test
    try {
      // Two jobs contend for one thread: each lane's first statement waits 300 ms on its lock.
      await holder.query("SELECT pg_advisory_lock($1)", [key]);
      const firstWaits = [1, 2].map(() => pool.query("SELECT pg_advisory_xact_lock($1)", [key]));
      await sleep(300);
      await holder.query("SELECT pg_advisory_unlock($1)", [key]);
      await Promise.all(firstWaits);
      // The same contention again, on both lanes.
      await holder.query("SELECT pg_advisory_lock($1)", [key]);
      const blocked = [1, 2].map(() => settledOf(pool.query("SELECT pg_advisory_xact_lock($1)", [key])));
      await sleep(200); // far beyond a local handshake and LANE_STALL_MS, under the first waits' 300 ms
      let released = false;
      const release = sleep(1_500).then(async () => {
        released = true;
        await holder.query("SELECT pg_advisory_unlock($1)", [key]);
      });
      const answered = await pool
        .query("SELECT 3")
        .then(() => (released ? "after the lock" : "while it was held"));
      await release;
      expect({ answered, spilled: pool.spilled }).toEqual({ answered: "while it was held", spilled: 1 });
      expect(await Promise.all(blocked)).toEqual(["answered", "answered"]);
    } finally {
      await holder.query("SELECT pg_advisory_unlock_all()");
      holder.release();
    }
  });

  it("still keeps statements off a distant lane that waits on a lock: they are answered while it waits", async () => {
    const holder = await admin().connect();
    const key = Math.floor(Math.random() * 2 ** 30);
    const proxy = await proxied();
    proxy.slow(30);
    const pool = track(connectPostgres(proxy.url, 4, {}, 2) as PipelinedPool);
    pool.on("error", () => {}); // the pooled connection it spills to sees the proxy close after the test
    try {
      await Promise.all([pool.query("SELECT 1"), pool.query("SELECT 2")]); // both lanes up and answering
      await holder.query("SELECT pg_advisory_lock($1)", [key]);
      const blocked = [1, 2].map(() => settledOf(pool.query("SELECT pg_advisory_xact_lock($1)", [key])));
      await sleep(400); // well past a round trip (60 ms) and LANE_STALL_MS: both lanes are stalled
      let released = false;
      const answered = await pool
        .query("SELECT 3 AS n")
        .then((result) => ({ n: result.rows[0].n, released }));
      expect(answered).toEqual({ n: 3, released: false }); // answered while the lock was still held
      expect(pool.spilled).toBe(1);
      released = true;
      await holder.query("SELECT pg_advisory_unlock($1)", [key]);
      expect(await Promise.all(blocked)).toEqual(["answered", "answered"]);
    } finally {
      await holder.query("SELECT pg_advisory_unlock_all()");
      holder.release();
    }
  });
});
