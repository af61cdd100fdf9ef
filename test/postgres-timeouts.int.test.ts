// A Postgres that goes silent (a network partition: connections open, nothing answers) fails
// the calls waiting on it after the query timeout, instead of after TCP's ~15 minutes.
import { connectPostgres, createDb, inTransaction } from "@layover/runtime";
import { getPostgres, tcpProxy } from "@layover/testing";
import { expect, it } from "vitest";

it("a statement a silent Postgres never answers fails after queryTimeoutMs, and its connection is dropped", async () => {
  const proxy = await tcpProxy(await getPostgres());
  const pool = connectPostgres(proxy.url, 2, { queryTimeoutMs: 500 });
  try {
    expect((await pool.query("SELECT 1 AS one")).rows).toEqual([{ one: 1 }]);
    proxy.freeze();
    const started = Date.now();
    await expect(pool.query("SELECT 2")).rejects.toThrow(/timeout/i);
    expect(Date.now() - started).toBeLessThan(5_000);
    // The silent connection was dropped, not handed to the next caller.
    expect(pool.totalCount).toBe(0);
  } finally {
    await proxy.close();
    await pool.end().catch(() => undefined);
  }
});

it("the server cancels a statement before the caller gives up on it (statement_timeout at 90%, or not sent)", async () => {
  const pool = connectPostgres(await getPostgres(), 1, { queryTimeoutMs: 2_000 });
  try {
    expect((await pool.query("SHOW statement_timeout")).rows).toEqual([{ statement_timeout: "1800ms" }]);
    const { rows } = await pool.query("SELECT source FROM pg_settings WHERE name = 'statement_timeout'");
    expect(rows[0].source).toBe("client");
  } finally {
    await pool.end();
  }
  // Behind PgBouncer the parameter must not be sent at all: statementTimeoutMs 0 sends nothing.
  const bouncerSafe = connectPostgres(await getPostgres(), 1, {
    queryTimeoutMs: 2_000,
    statementTimeoutMs: 0,
  });
  try {
    const { rows } = await bouncerSafe.query(
      "SELECT name, source FROM pg_settings WHERE name IN ('statement_timeout', 'idle_in_transaction_session_timeout')",
    );
    expect(rows).toHaveLength(2);
    for (const row of rows) expect(row.source).not.toBe("client");
  } finally {
    await bouncerSafe.end();
  }
});

it("a transaction on a silent Postgres fails after one timeout, not two (no ROLLBACK queued behind)", async () => {
  const proxy = await tcpProxy(await getPostgres());
  const pool = connectPostgres(proxy.url, 1, { queryTimeoutMs: 2_000 });
  try {
    await pool.query("SELECT 1");
    proxy.freeze();
    const started = Date.now();
    await expect(inTransaction(createDb(pool), (client) => client.query("SELECT 1"))).rejects.toThrow(
      /timeout/i,
    );
    // BEGIN went unanswered: the connection is dropped at once; a ROLLBACK would wait 2 s more.
    expect(Date.now() - started).toBeLessThan(3_500);
    expect(pool.totalCount).toBe(0);
  } finally {
    await proxy.close();
    await pool.end().catch(() => undefined);
  }
});

it("a transaction its process stops sending to (frozen, starved) is ended by the server, releasing its locks", async () => {
  const pool = connectPostgres(await getPostgres(), 1, { queryTimeoutMs: 1_000 });
  const other = connectPostgres(await getPostgres(), 1, { queryTimeoutMs: 5_000 });
  pool.on("error", () => {}); // the server ends the idle session: reported on the pool
  const frozen = await pool.connect();
  frozen.on("error", () => {});
  try {
    await frozen.query("BEGIN");
    // A lock held until the transaction ends, as the sweep's claim of the threads it expires.
    await frozen.query("SELECT pg_advisory_xact_lock(424242)");
    // The process sends nothing more: the server ends its session (after twice its 0.9 s
    // statement_timeout), and another gets the lock (without that, this waits past its own
    // statement_timeout, 4.5 s, and fails).
    await expect(other.query("SELECT pg_advisory_xact_lock(424242)")).resolves.toBeDefined();
    await expect(frozen.query("SELECT 1")).rejects.toThrow();
  } finally {
    frozen.release(true);
    await pool.end().catch(() => undefined);
    await other.end();
  }
});
