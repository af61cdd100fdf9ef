import { useTestSchema } from "@layover/testing/vitest";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { isPostgresSaverError } from "./errors.ts";
import { migrate } from "./migrate.ts";
import { PostgresSaver } from "./postgres-saver.ts";
import { statementName } from "./schema-name.ts";
import { newKey, putArgs } from "./test-support/checkpoints.ts";
import {
  countingPool,
  lockedBackends,
  replyLosingPool,
  rowCounts,
  terminateBackends,
} from "./test-support/pools.ts";

const schema = useTestSchema("failures");
let admin: pg.Pool;

beforeAll(async () => {
  admin = new pg.Pool({ connectionString: schema.current.url, max: 3 });
  await migrate(admin, { schema: schema.current.name });
});

afterAll(async () => {
  await admin.end();
});

function retryingSaver() {
  const counted = countingPool(schema.current.url, 4);
  const retries: unknown[] = [];
  const saver = new PostgresSaver({
    pool: counted.pool,
    schema: schema.current.name,
    retry: { baseDelayMs: 5, maxDelayMs: 50, onRetry: (info) => retries.push(info.error) },
  });
  return { ...counted, saver, retries };
}

/** Waits until a backend of `appName` is blocked on a lock; returns its pid. */
async function blockedBackend(appName: string): Promise<number> {
  return (await lockedBackends(admin, appName))[0] as number;
}

describe("connection loss", () => {
  it("recovers on the next operation after every backend of the saver is terminated", async () => {
    const { pool, appName, saver } = retryingSaver();
    try {
      const key = newKey("terminated-idle");
      const first = putArgs(key, { values: { n: 0 }, versions: { n: 1 }, changed: ["n"], parentId: null });
      await saver.put(first);
      await saver.getTuple(key);
      expect(await terminateBackends(admin, appName)).toBeGreaterThan(0);
      const second = putArgs(key, {
        values: { n: 1 },
        versions: { n: 2 },
        changed: ["n"],
        parentId: first.checkpoint.id,
      });
      await saver.put(second);
      expect((await saver.getTuple(key))?.checkpoint.channelValues).toEqual({ n: 1 });
      expect(await rowCounts(admin, schema.current.name, key.threadId)).toMatchObject({ checkpoints: 2 });
    } finally {
      await pool.end();
    }
  });

  it("retries a put whose connection is terminated mid-statement, and commits it exactly once", async () => {
    const { pool, appName, saver, retries } = retryingSaver();
    const locker = await admin.connect();
    try {
      const key = newKey("terminated-mid-put");
      const first = putArgs(key, { values: { n: 0 }, versions: { n: 1 }, changed: ["n"], parentId: null });
      await saver.put(first);
      await locker.query("BEGIN");
      await locker.query(
        `SELECT 1 FROM "${schema.current.name}".checkpoint_heads WHERE thread_id = $1 FOR UPDATE`,
        [key.threadId],
      );
      const second = putArgs(key, {
        values: { n: 1 },
        versions: { n: 2 },
        changed: ["n"],
        parentId: first.checkpoint.id,
      });
      const pending = saver.put(second);
      const pid = await blockedBackend(appName);
      await admin.query("SELECT pg_terminate_backend($1)", [pid]);
      await blockedBackend(appName);
      await locker.query("COMMIT");
      await pending;
      expect(retries.length).toBeGreaterThanOrEqual(1);
      expect((await saver.getTuple(key))?.checkpoint.id).toBe(second.checkpoint.id);
      expect(await rowCounts(admin, schema.current.name, key.threadId)).toMatchObject({
        checkpoints: 2,
        heads: 1,
      });
    } finally {
      await locker.query("ROLLBACK").catch(() => undefined);
      locker.release();
      await pool.end();
    }
  });

  it("retries a transaction (deleteThread) whose connection is terminated inside it", async () => {
    const { pool, appName, saver, retries } = retryingSaver();
    const locker = await admin.connect();
    try {
      const key = newKey("terminated-mid-delete");
      await saver.put(putArgs(key, { values: { n: 0 }, versions: { n: 1 }, changed: ["n"], parentId: null }));
      await locker.query("BEGIN");
      await locker.query(
        `SELECT 1 FROM "${schema.current.name}".checkpoints c JOIN "${schema.current.name}".checkpoint_heads h
         USING (key_id) WHERE h.thread_id = $1 FOR UPDATE OF c`,
        [key.threadId],
      );
      const pending = saver.deleteThread(key.threadId);
      await admin.query("SELECT pg_terminate_backend($1)", [await blockedBackend(appName)]);
      await blockedBackend(appName);
      await locker.query("COMMIT");
      await pending;
      expect(retries.length).toBeGreaterThanOrEqual(1);
      expect(await rowCounts(admin, schema.current.name, key.threadId)).toEqual({
        heads: 0,
        checkpoints: 0,
        blobs: 0,
        writes: 0,
      });
    } finally {
      await locker.query("ROLLBACK").catch(() => undefined);
      locker.release();
      await pool.end();
    }
  });
});

describe("ambiguous commits", () => {
  it("reports success when a put committed but its reply was lost, storing it once", async () => {
    const name = statementName("put_checkpoint", schema.current.name);
    const { pool, lost } = replyLosingPool(schema.current.url, name);
    const retries: unknown[] = [];
    const saver = new PostgresSaver({
      pool,
      schema: schema.current.name,
      retry: { baseDelayMs: 1, onRetry: (info) => retries.push(info.error) },
    });
    try {
      const key = newKey("reply-lost");
      const first = putArgs(key, { values: { n: 0 }, versions: { n: 1 }, changed: ["n"], parentId: null });
      await saver.put(first);
      expect(lost()).toBe(1);
      expect(retries).toHaveLength(1);
      expect((await saver.getTuple(key))?.checkpoint.id).toBe(first.checkpoint.id);
      const second = putArgs(key, { values: { n: 1 }, versions: { n: 2 }, changed: ["n"], parentId: null });
      const conflict = await saver.put(second).catch((caught: unknown) => caught);
      expect((conflict as { code?: string }).code).toBe("CHECKPOINT_CONFLICT");
      expect(await rowCounts(admin, schema.current.name, key.threadId)).toMatchObject({
        heads: 1,
        checkpoints: 1,
      });
    } finally {
      await pool.end();
    }
  });
});

describe("typed errors", () => {
  it("reports POSTGRES_UNAVAILABLE when retries run out", async () => {
    const retries: unknown[] = [];
    const saver = new PostgresSaver({
      connectionString: "postgres://postgres@127.0.0.1:1/postgres",
      schema: schema.current.name,
      retry: { maxAttempts: 3, baseDelayMs: 1, onRetry: (info) => retries.push(info.error) },
    });
    try {
      const error = await saver.getTuple(newKey("unreachable")).catch((caught: unknown) => caught);
      expect(isPostgresSaverError(error, "POSTGRES_UNAVAILABLE")).toBe(true);
      expect((error as Error).message).toContain("after 3 attempt(s)");
      expect(retries).toHaveLength(2);
    } finally {
      await saver.close();
    }
  });

  it("reports POSTGRES_SCHEMA_MISSING, saying to migrate, when the tables do not exist", async () => {
    const saver = new PostgresSaver({ pool: admin, schema: `${schema.current.name}_never_migrated` });
    const error = await saver.getTuple(newKey("no-tables")).catch((caught: unknown) => caught);
    expect(isPostgresSaverError(error, "POSTGRES_SCHEMA_MISSING")).toBe(true);
    expect((error as Error).message).toContain("migrate(");
  });

  it("reports anything else as POSTGRES_QUERY_FAILED at once, without retrying", async () => {
    const retries: unknown[] = [];
    const saver = new PostgresSaver({
      pool: admin,
      schema: schema.current.name,
      retry: { onRetry: (info) => retries.push(info) },
    });
    const key = newKey("nul");
    const args = putArgs(
      { ...key, threadId: "bad\u0000thread" },
      { values: { a: 1 }, versions: { a: 1 }, changed: ["a"], parentId: null },
    );
    const error = await saver.put(args).catch((caught: unknown) => caught);
    expect(isPostgresSaverError(error, "POSTGRES_QUERY_FAILED")).toBe(true);
    expect(retries).toEqual([]);
  });
});

describe("a statement nobody waits for", () => {
  // A transaction whose statement goes unanswered past pg's query_timeout: its connection still
  // runs that statement, inside the transaction. Handed back to the pool, the next caller's
  // statements would run inside it, reported done and never committed.
  it("a deleteThread whose statement outlived the query timeout leaves no transaction open for the next caller", async () => {
    const appName = `tx-timeout-${process.pid}`;
    // One connection, and no server-side statement_timeout (as behind PgBouncer): the caller gives up first.
    const pool = new pg.Pool({
      connectionString: schema.current.url,
      max: 1,
      application_name: appName,
      query_timeout: 400,
    });
    const saver = new PostgresSaver({ pool, schema: schema.current.name, retry: { maxAttempts: 1 } });
    const locker = await admin.connect();
    try {
      const held = newKey("held");
      // Stored without the 400 ms timeout, which only the delete is meant to outlive.
      await new PostgresSaver({ pool: admin, schema: schema.current.name }).put(
        putArgs(held, { values: { n: 0 }, versions: { n: 1 }, changed: ["n"], parentId: null }),
      );
      // Another session holds the heads: the delete waits on them past the query timeout. A table
      // lock, which takes no transaction id (a row lock would hold other tests' interrupt feeds back).
      await locker.query("BEGIN");
      await locker.query(`LOCK TABLE "${schema.current.name}".checkpoint_heads IN EXCLUSIVE MODE`);
      const deleting = saver.deleteThread(held.threadId);
      await blockedBackend(appName);
      await expect(deleting).rejects.toThrow(/timeout/i);
      // The lock goes: the abandoned delete finishes on the server, inside its transaction.
      await locker.query("ROLLBACK");
      const after = newKey("after");
      await saver.put(
        putArgs(after, { values: { n: 1 }, versions: { n: 1 }, changed: ["n"], parentId: null }),
      );
      // What the saver reported stored is there for everyone else to read.
      const { rowCount } = await admin.query(
        `SELECT 1 FROM "${schema.current.name}".checkpoint_heads WHERE thread_id = $1`,
        [after.threadId],
      );
      expect(rowCount).toBe(1);
    } finally {
      locker.release();
      await pool.end();
    }
  });
});
