import { isCheckpointConflict, NotSerializableError, newCheckpointId } from "@layover/checkpoint";
import { beforeAll, describe, expect, it } from "vitest";
import { isPostgresSaverError } from "./errors.ts";
import { statementName } from "./schema-name.ts";
import { newKey, putArgs } from "./test-support/checkpoints.ts";
import { useCountedSaver } from "./test-support/counted-saver.ts";
import { idleInTransaction, rowCounts } from "./test-support/pools.ts";
import { inTransaction } from "./transaction.ts";

const t = useCountedSaver("put");

describe("put commits a superstep in one statement", () => {
  it("sends one statement per put (one round trip, one commit), and one per read", async () => {
    const key = newKey("one-statement");
    let parentId: string | null = null;
    for (let step = 0; step < 5; step++) {
      const args = putArgs(key, {
        values: { counter: step, log: `line ${step}` },
        versions: { counter: step + 1, log: step + 1 },
        changed: ["counter", "log"],
        parentId,
      });
      const sent = await t.statementsOf(() => t.saver.put(args));
      expect(sent).toEqual([statementName("put_checkpoint", t.schema.name)]);
      parentId = args.checkpoint.id;
    }
    expect(await t.statementsOf(() => t.saver.getTuple(key))).toHaveLength(1);
    const writes = await t.statementsOf(() =>
      t.saver.putWrites({
        ...key,
        checkpointId: parentId as string,
        taskId: "t",
        writes: [
          ["a", 1],
          ["b", 2],
        ],
      }),
    );
    expect(writes).toHaveLength(1);
  });

  it("serializes before sending anything: an unstorable value fails with nothing sent or stored", async () => {
    const key = newKey("unserializable");
    const args = putArgs(key, {
      values: { fn: () => 1 },
      versions: { fn: 1 },
      changed: ["fn"],
      parentId: null,
    });
    let error: unknown;
    const sent = await t.statementsOf(() => t.saver.put(args).catch((caught: unknown) => (error = caught)));
    expect(error).toBeInstanceOf(NotSerializableError);
    expect(sent).toEqual([]);
    expect(await rowCounts(t.admin, t.schema.name, key.threadId)).toEqual({
      heads: 0,
      checkpoints: 0,
      blobs: 0,
      writes: 0,
    });
  });

  it("lets exactly one of ten concurrent puts from the same head win; the others store nothing", async () => {
    const key = newKey("ten-racers");
    const first = putArgs(key, {
      values: { value: { text: "base" } },
      versions: { value: 1 },
      changed: ["value"],
      parentId: null,
    });
    await t.saver.put(first);
    const racers = Array.from({ length: 10 }, (_, i) =>
      putArgs(key, {
        values: { value: { text: `racer ${i}` }, [`extra${i}`]: { n: i } },
        versions: { value: 2, [`extra${i}`]: 1 },
        changed: ["value", `extra${i}`],
        parentId: first.checkpoint.id,
      }),
    );
    const results = await Promise.allSettled(racers.map((args) => t.saver.put(args)));
    const winners = results.flatMap((result, i) => (result.status === "fulfilled" ? [i] : []));
    expect(winners).toHaveLength(1);
    for (const result of results) {
      if (result.status === "rejected") expect(isCheckpointConflict(result.reason)).toBe(true);
    }
    const winner = racers[winners[0] as number]!;
    expect((await t.saver.getTuple(key))?.checkpoint.id).toBe(winner.checkpoint.id);
    expect(await rowCounts(t.admin, t.schema.name, key.threadId)).toEqual({
      heads: 1,
      checkpoints: 2,
      blobs: 3,
      writes: 0,
    });
  });

  it("refuses a put that reuses a stored checkpoint id, as a conflict", async () => {
    const key = newKey("same-id");
    const first = putArgs(key, { values: { a: 1 }, versions: { a: 1 }, changed: ["a"], parentId: null });
    await t.saver.put(first);
    const again = { ...first, parentId: first.checkpoint.id };
    const error = await t.saver.put(again).catch((caught: unknown) => caught);
    expect(isCheckpointConflict(error)).toBe(true);
    expect(await rowCounts(t.admin, t.schema.name, key.threadId)).toMatchObject({ checkpoints: 1 });
  });
});

describe("putThen commits a put and the caller's statement together", () => {
  const marks = () => `"${t.schema.name}".then_marks`;
  const mark = (name: string) => ({
    name,
    sql: `INSERT INTO ${marks()} (thread_id, note) SELECT $18, $19 FROM won RETURNING thread_id, note`,
    values: [] as unknown[],
  });
  const markedThreads = async () => (await t.admin.query(`SELECT thread_id FROM ${marks()}`)).rows;

  // The shape a worker's end of run has: a SELECT calling a function that writes.
  const markByFunction = (threadId: string, note: string) => ({
    name: "mark_by_function",
    sql: `SELECT * FROM "${t.schema.name}".then_mark($18, $19)`,
    values: [threadId, note],
  });

  beforeAll(async () => {
    await t.admin.query(`CREATE TABLE ${marks()} (thread_id text, note text)`);
    await t.admin.query(`CREATE FUNCTION "${t.schema.name}".then_mark(p_thread text, p_note text,
        OUT thread_id text, OUT note text) LANGUAGE sql AS
      $$ INSERT INTO ${marks()} (thread_id, note) VALUES (p_thread, p_note) RETURNING thread_id, note $$`);
  });

  it("runs `then` when the put wins, in one statement, and returns its row", async () => {
    const key = newKey("then-wins");
    const args = putArgs(key, { values: { n: 1 }, versions: { n: 1 }, changed: ["n"], parentId: null });
    let row: unknown;
    const sent = await t.statementsOf(async () => {
      row = await t.saver.putThen(args, { ...mark("mark"), values: [key.threadId, "won"] });
    });
    expect(sent).toEqual([statementName("put_then_mark", t.schema.name)]);
    expect(row).toEqual({ thread_id: key.threadId, note: "won" });
    expect((await t.saver.getTuple(key))?.checkpoint.id).toBe(args.checkpoint.id);
  });

  it("runs nothing of `then` when the put loses its compare-and-set", async () => {
    const key = newKey("then-loses");
    const first = putArgs(key, { values: { n: 1 }, versions: { n: 1 }, changed: ["n"], parentId: null });
    await t.saver.put(first);
    const late = putArgs(key, { values: { n: 2 }, versions: { n: 2 }, changed: ["n"], parentId: null });
    const error = await t.saver
      .putThen(late, { ...mark("mark"), values: [key.threadId, "late"] })
      .catch((e) => e);
    expect(isCheckpointConflict(error)).toBe(true);
    expect(await markedThreads()).not.toContainEqual({ thread_id: key.threadId });
  });

  it("calls a `then` function only when the put wins, once, also when deltas are resent in full", async () => {
    const lost = newKey("then-function-loses");
    const first = putArgs(lost, { values: { n: 1 }, versions: { n: 1 }, changed: ["n"], parentId: null });
    await t.saver.put(first);
    const late = putArgs(lost, { values: { n: 2 }, versions: { n: 2 }, changed: ["n"], parentId: null });
    const error = await t.saver.putThen(late, markByFunction(lost.threadId, "late")).catch((e) => e);
    expect(isCheckpointConflict(error)).toBe(true);
    // A list delta against a base that does not match what is stored: the first statement
    // writes nothing, the put is resent with full values.
    const resent = newKey("then-function-resent");
    const base = putArgs(resent, {
      values: { list: ["a"] },
      versions: { list: 1 },
      changed: ["list"],
      parentId: null,
    });
    await t.saver.put(base);
    const grown = putArgs(resent, {
      values: { list: ["a", "b", "c"] },
      versions: { list: 2 },
      changed: ["list"],
      parentId: base.checkpoint.id,
      appends: { list: { baseVersion: 1, baseLength: 2 } },
    });
    const row = await t.saver.putThen(grown, markByFunction(resent.threadId, "resent"));
    expect(row).toEqual({ thread_id: resent.threadId, note: "resent" });
    expect((await t.saver.getTuple(resent))?.checkpoint.channelValues).toEqual({ list: ["a", "b", "c"] });
    const { rows } = await t.admin.query(`SELECT thread_id, note FROM ${marks()} WHERE thread_id = ANY($1)`, [
      [lost.threadId, resent.threadId],
    ]);
    expect(rows).toEqual([{ thread_id: resent.threadId, note: "resent" }]);
  });

  it("stores nothing when `then` fails: both commit or neither does", async () => {
    const key = newKey("then-fails");
    const args = putArgs(key, { values: { n: 1 }, versions: { n: 1 }, changed: ["n"], parentId: null });
    const failing = { name: "failing", sql: "SELECT 1 / (count(*) - count(*)) AS boom FROM won", values: [] };
    await expect(t.saver.putThen(args, failing)).rejects.toThrow(/division by zero/);
    expect(await t.saver.getTuple(key)).toBeUndefined();
  });

  it("refuses one name for two SQL texts: the second would run the first's prepared SQL", async () => {
    const key = newKey("then-same-name");
    const args = putArgs(key, { values: { n: 1 }, versions: { n: 1 }, changed: ["n"], parentId: null });
    const other = { name: "mark_by_function", sql: "SELECT 'other' AS note", values: [] };
    const error = await t.saver.putThen(args, other).catch((e) => e);
    expect(isPostgresSaverError(error) && /already used for other SQL/.test(error.message)).toBe(true);
    expect(await t.saver.getTuple(key)).toBeUndefined();
  });

  it("refuses a `then` name that could not name a statement, sending nothing", async () => {
    const key = newKey("then-name");
    const args = putArgs(key, { values: { n: 1 }, versions: { n: 1 }, changed: ["n"], parentId: null });
    const sent = await t.statementsOf(async () => {
      const error = await t.saver.putThen(args, { ...mark("Mark; DROP"), values: [] }).catch((e) => e);
      expect(isPostgresSaverError(error)).toBe(true);
    });
    expect(sent).toEqual([]);
  });

  it("putWritesThen stores a head's writes and runs `then`, in one statement", async () => {
    const key = newKey("writes-then");
    const args = putArgs(key, { values: { n: 1 }, versions: { n: 1 }, changed: ["n"], parentId: null });
    await t.saver.put(args);
    const writes = [
      {
        ...key,
        checkpointId: args.checkpoint.id,
        taskId: "ask",
        writes: [["__interrupt__", "ok?", -3]] as const,
      },
    ];
    let row: unknown;
    const sent = await t.statementsOf(async () => {
      row = await t.saver.putWritesThen(writes, markByFunction(key.threadId, "paused"));
    });
    expect(sent).toEqual([statementName("wthen_mark_by_function", t.schema.name)]);
    expect(row).toEqual({ thread_id: key.threadId, note: "paused" });
    expect((await t.saver.getTuple(key))?.pendingWrites).toMatchObject([
      { taskId: "ask", value: "ok?", idx: -3 },
    ]);
  });

  it("putWritesThen against a checkpoint that is no longer the head stores and runs nothing", async () => {
    const key = newKey("writes-then-moved");
    const first = putArgs(key, { values: { n: 1 }, versions: { n: 1 }, changed: ["n"], parentId: null });
    await t.saver.put(first);
    const next = putArgs(key, {
      values: { n: 2 },
      versions: { n: 2 },
      changed: ["n"],
      parentId: first.checkpoint.id,
    });
    await t.saver.put(next);
    const writes = [
      {
        ...key,
        checkpointId: first.checkpoint.id,
        taskId: "ask",
        writes: [["__interrupt__", "late", -3]] as const,
      },
    ];
    const error = await t.saver.putWritesThen(writes, markByFunction(key.threadId, "late")).catch((e) => e);
    expect(isCheckpointConflict(error)).toBe(true);
    expect(await markedThreads()).not.toContainEqual({ thread_id: key.threadId });
    expect((await t.saver.getTuple({ ...key, checkpointId: first.checkpoint.id }))?.pendingWrites).toEqual(
      [],
    );
  });

  it("putWritesThen waits for a put moving the head, then stores and runs nothing", async () => {
    const key = newKey("writes-then-race");
    const first = putArgs(key, { values: { n: 1 }, versions: { n: 1 }, changed: ["n"], parentId: null });
    await t.saver.put(first);
    const mover = await t.admin.connect();
    try {
      // Another worker's put, committed a moment after the park statement started.
      await mover.query("BEGIN");
      await mover.query(`UPDATE "${t.schema.name}".checkpoint_heads SET head_id = $1 WHERE thread_id = $2`, [
        newCheckpointId(),
        key.threadId,
      ]);
      const writes = [
        {
          ...key,
          checkpointId: first.checkpoint.id,
          taskId: "ask",
          writes: [["__interrupt__", "q", -3]] as const,
        },
      ];
      const parking = t.saver.putWritesThen(writes, markByFunction(key.threadId, "raced")).catch((e) => e);
      await new Promise((resolve) => setTimeout(resolve, 50));
      await mover.query("COMMIT");
      expect(isCheckpointConflict(await parking)).toBe(true);
    } finally {
      mover.release();
    }
    expect(await markedThreads()).not.toContainEqual({ thread_id: key.threadId });
  });

  it("putWritesThen on a thread with no checkpoint stores nothing and runs nothing of `then`", async () => {
    const key = newKey("writes-then-none");
    const writes = [
      {
        ...key,
        checkpointId: putArgs(key, { values: {}, versions: {}, changed: [], parentId: null }).checkpoint.id,
        taskId: "t",
        writes: [["a", 1]] as const,
      },
    ];
    const error = await t.saver.putWritesThen(writes, markByFunction(key.threadId, "none")).catch((e) => e);
    expect(isPostgresSaverError(error, "CHECKPOINT_NOT_FOUND")).toBe(true);
    expect(await markedThreads()).not.toContainEqual({ thread_id: key.threadId });
  });
});

describe("channel values are stored once per version", () => {
  it("stores an unchanged 10 KB field once per thread (a number inline), and every checkpoint reads both", async () => {
    const key = newKey("unchanged-field");
    const document = { body: "x".repeat(10_000) };
    let parentId: string | null = null;
    const ids: string[] = [];
    for (let step = 0; step < 20; step++) {
      const args = putArgs(key, {
        values: { document, counter: step },
        versions: { document: 1, counter: step + 1 },
        changed: step === 0 ? ["document", "counter"] : ["counter"],
        parentId,
      });
      await t.saver.put(args);
      ids.push(args.checkpoint.id);
      parentId = args.checkpoint.id;
    }
    const { rows } = await t.admin.query(
      `SELECT b.channel, count(*)::int AS n FROM "${t.schema.name}".checkpoint_blobs b
       JOIN "${t.schema.name}".checkpoint_heads h USING (key_id)
       WHERE h.thread_id = $1 GROUP BY b.channel ORDER BY b.channel`,
      [key.threadId],
    );
    expect(rows).toEqual([{ channel: "document", n: 1 }]);
    for (const [step, id] of ids.entries()) {
      const tuple = await t.saver.getTuple({ ...key, checkpointId: id });
      expect(tuple?.checkpoint.channelValues).toEqual({ document, counter: step });
    }
  });

  it("keeps the last of two writes to the same (task, idx) given in one call", async () => {
    const key = newKey("same-slot");
    const args = putArgs(key, { values: { a: 1 }, versions: { a: 1 }, changed: ["a"], parentId: null });
    await t.saver.put(args);
    await t.saver.putWrites({
      ...key,
      checkpointId: args.checkpoint.id,
      taskId: "t",
      writes: [
        ["x", "first", 0],
        ["y", "second", 0],
      ],
    });
    expect((await t.saver.getTuple(key))?.pendingWrites).toEqual([
      { taskId: "t", channel: "y", idx: 0, value: "second" },
    ]);
  });
});

describe("metadata", () => {
  it("stores metadata holding half a surrogate pair (as U+FFFD where filters read it), and finds it", async () => {
    const key = newKey("surrogate-metadata");
    const args = putArgs(key, { values: { a: 1 }, versions: { a: 1 }, changed: ["a"], parentId: null });
    // A name cut through an emoji with slice(): what JSON and Postgres's jsonb cannot hold.
    args.metadata = { ...args.metadata, note: "cut \ud83d" };
    await t.saver.put(args);
    expect((await t.saver.getTuple(key))?.metadata.note).toBe("cut \ud83d");
    const found = [];
    for await (const tuple of t.saver.list(key, { filter: { note: "cut \ud83d" } })) found.push(tuple);
    expect(found.map((tuple) => tuple.checkpoint.id)).toEqual([args.checkpoint.id]);
  });
});

describe("ids and connections", () => {
  it("refuses checkpoint ids that are not UUIDs, and reads of such ids find nothing", async () => {
    const key = newKey("bad-id");
    const args = putArgs(key, { values: { a: 1 }, versions: { a: 1 }, changed: ["a"], parentId: null });
    args.checkpoint.id = "not-a-uuid";
    const error = await t.saver.put(args).catch((caught: unknown) => caught);
    expect(isPostgresSaverError(error, "INVALID_SAVER_INPUT")).toBe(true);
    expect(await t.saver.getTuple({ ...key, checkpointId: "not-a-uuid" })).toBeUndefined();
  });

  it("never leaves a connection idle in a transaction, even when the work inside fails", async () => {
    const failed = await inTransaction(t.counted.pool, async (client) => {
      await client.query("SELECT 1");
      throw new Error("boom inside the transaction");
    }).catch((caught: unknown) => caught);
    expect(String(failed)).toContain("boom");
    const key = newKey("idle");
    const first = putArgs(key, { values: { a: 1 }, versions: { a: 1 }, changed: ["a"], parentId: null });
    await t.saver.put(first);
    await t.saver.put(first).catch(() => undefined);
    await t.saver.deleteThread(key.threadId);
    await t.saver.prune({ threadIds: [key.threadId] }, { strategy: "keep_latest" });
    expect(await idleInTransaction(t.admin, t.counted.appName)).toBe(0);
    expect(t.counted.pool.idleCount).toBe(t.counted.pool.totalCount);
  });
});
