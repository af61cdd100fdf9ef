import { type CheckpointKey, isCheckpointConflict, type PutCheckpointArgs } from "@layover/checkpoint";
import { describe, expect, it } from "vitest";
import { isPostgresSaverError } from "./errors.ts";
import { statementName } from "./schema-name.ts";
import { newKey, putArgs } from "./test-support/checkpoints.ts";
import { useCountedSaver } from "./test-support/counted-saver.ts";
import { rowCounts } from "./test-support/pools.ts";

const t = useCountedSaver("put_many");

/**
 * `count` checkpoints after `parentId`, each appending one line to `log` (delta hints against
 * `log`'s version at `stored`, as an engine holding them in memory gives) and setting `n`.
 */
function chainAfter(
  key: CheckpointKey,
  parentId: string | null,
  stored: { log: string[]; version: number } | undefined,
  count: number,
): PutCheckpointArgs[] {
  const chain: PutCheckpointArgs[] = [];
  let log = stored?.log ?? [];
  let version = stored?.version ?? 0;
  for (let i = 0; i < count; i++) {
    log = [...log, `line ${version + 1}`];
    version += 1;
    chain.push(
      putArgs(key, {
        values: { log, n: version },
        versions: { log: version, n: version },
        changed: ["log", "n"],
        parentId: chain.at(-1)?.checkpoint.id ?? parentId,
        step: version,
        ...(stored
          ? { appends: { log: { baseVersion: stored.version, baseLength: stored.log.length } } }
          : {}),
      }),
    );
  }
  return chain;
}

describe("putMany stores a chain of checkpoints in one statement", () => {
  it("stores each checkpoint with its parent and values, and moves the head to the last", async () => {
    const key = newKey("chain");
    const first = chainAfter(key, null, undefined, 1);
    await t.saver.put(first[0] as PutCheckpointArgs);
    const chain = chainAfter(key, first[0]?.checkpoint.id ?? null, { log: ["line 1"], version: 1 }, 3);
    const sent = await t.statementsOf(() => t.saver.putMany(chain));
    expect(sent).toEqual([statementName("put_checkpoint", t.schema.name)]);
    const history = [];
    for await (const tuple of t.saver.list(key)) history.push(tuple);
    expect(history.map((t) => [t.checkpoint.id, t.parentId])).toEqual(
      [...first, ...chain].map((args) => [args.checkpoint.id, args.parentId]).reverse(),
    );
    expect(history.map((t) => t.checkpoint.channelValues)).toEqual([
      { log: ["line 1", "line 2", "line 3", "line 4"], n: 4 },
      { log: ["line 1", "line 2", "line 3"], n: 3 },
      { log: ["line 1", "line 2"], n: 2 },
      { log: ["line 1"], n: 1 },
    ]);
    expect((await t.saver.getTuple(key))?.checkpoint.id).toBe(chain[2]?.checkpoint.id);
    // Stored as deltas on the stored base, not as full lists.
    const { rows } = await t.admin.query(
      `SELECT version, base_version FROM "${t.schema.name}".checkpoint_blobs b
         JOIN "${t.schema.name}".checkpoint_heads h USING (key_id)
        WHERE h.thread_id = $1 AND b.channel = 'log' ORDER BY version`,
      [key.threadId],
    );
    expect(rows).toEqual([
      { version: "1", base_version: null },
      { version: "2", base_version: "1" },
      { version: "3", base_version: "1" },
      { version: "4", base_version: "1" },
    ]);
  });

  it("starts a new thread with a chain", async () => {
    const key = newKey("chain-new");
    const chain = chainAfter(key, null, undefined, 2);
    await t.saver.putMany(chain);
    expect((await t.saver.getTuple(key))?.checkpoint.channelValues).toEqual({
      log: ["line 1", "line 2"],
      n: 2,
    });
    expect((await t.saver.getTuple({ ...key, checkpointId: chain[0]?.checkpoint.id }))?.parentId).toBeNull();
  });

  it("stores a delta on a base the chain itself writes, in one statement", async () => {
    const key = newKey("chain-inner-base");
    const chain = chainAfter(key, null, undefined, 3);
    // Each appends to the version the one before it wrote, which no row held before the statement.
    (chain[1] as PutCheckpointArgs).appends = { log: { baseVersion: 1, baseLength: 1 } };
    (chain[2] as PutCheckpointArgs).appends = { log: { baseVersion: 2, baseLength: 2 } };
    const sent = await t.statementsOf(() => t.saver.putMany(chain));
    expect(sent).toHaveLength(1);
    const values = [];
    for await (const tuple of t.saver.list(key)) values.push(tuple.checkpoint.channelValues);
    expect(values).toEqual([
      { log: ["line 1", "line 2", "line 3"], n: 3 },
      { log: ["line 1", "line 2"], n: 2 },
      { log: ["line 1"], n: 1 },
    ]);
    const { rows } = await t.admin.query(
      `SELECT version, base_version, item_count, chain_length FROM "${t.schema.name}".checkpoint_blobs b
         JOIN "${t.schema.name}".checkpoint_heads h USING (key_id)
        WHERE h.thread_id = $1 AND b.channel = 'log' ORDER BY version`,
      [key.threadId],
    );
    expect(rows).toEqual([
      { version: "1", base_version: null, item_count: 1, chain_length: null },
      { version: "2", base_version: "1", item_count: 2, chain_length: 1 },
      { version: "3", base_version: "2", item_count: 3, chain_length: 2 },
    ]);
  });

  it("resends a chain in full when an inner base does not match the caller's length", async () => {
    const key = newKey("chain-inner-broken");
    const chain = chainAfter(key, null, undefined, 2);
    (chain[1] as PutCheckpointArgs).appends = { log: { baseVersion: 1, baseLength: 0 } };
    await t.saver.putMany(chain);
    expect((await t.saver.getTuple(key))?.checkpoint.channelValues).toEqual({
      log: ["line 1", "line 2"],
      n: 2,
    });
  });

  it("stores a (channel, version) two checkpoints of a chain both list once, as put would", async () => {
    const key = newKey("chain-same-version");
    const chain = chainAfter(key, null, undefined, 2);
    // The second lists `n` again at the first's version, with the same value: unchanged.
    const second = chain[1] as PutCheckpointArgs;
    second.checkpoint.channelVersions.other = 1;
    second.checkpoint.channelValues.other = ["kept"];
    (chain[0] as PutCheckpointArgs).checkpoint.channelVersions.other = 1;
    (chain[0] as PutCheckpointArgs).checkpoint.channelValues.other = ["kept"];
    (chain[0] as PutCheckpointArgs).changedChannels = ["log", "n", "other"];
    second.changedChannels = ["log", "n", "other"];
    await t.saver.putMany(chain);
    expect((await t.saver.getTuple(key))?.checkpoint.channelValues).toMatchObject({ other: ["kept"], n: 2 });
  });

  it("stores none of a chain whose compare-and-set loses", async () => {
    const key = newKey("chain-conflict");
    const base = chainAfter(key, null, undefined, 1)[0] as PutCheckpointArgs;
    await t.saver.put(base);
    const winner = chainAfter(key, base.checkpoint.id, { log: ["line 1"], version: 1 }, 1);
    await t.saver.putMany(winner);
    const late = chainAfter(key, base.checkpoint.id, { log: ["line 1"], version: 1 }, 2);
    const error = await t.saver.putMany(late).catch((caught: unknown) => caught);
    expect(isCheckpointConflict(error)).toBe(true);
    expect(await rowCounts(t.admin, t.schema.name, key.threadId)).toMatchObject({ checkpoints: 2 });
    expect((await t.saver.getTuple(key))?.checkpoint.id).toBe(winner[0]?.checkpoint.id);
  });

  it("refuses a chain that does not link up, or an empty one, sending nothing", async () => {
    const key = newKey("chain-broken");
    const chain = chainAfter(key, null, undefined, 3);
    const unlinked = [chain[0], chain[2]] as PutCheckpointArgs[];
    const otherThread = [chain[0], { ...(chain[1] as PutCheckpointArgs), threadId: "elsewhere" }];
    const sent = await t.statementsOf(async () => {
      for (const bad of [unlinked, otherThread, []]) {
        const error = await t.saver.putMany(bad as PutCheckpointArgs[]).catch((caught: unknown) => caught);
        expect(isPostgresSaverError(error, "INVALID_SAVER_INPUT")).toBe(true);
      }
    });
    expect(sent).toEqual([]);
    expect(await t.saver.getTuple(key)).toBeUndefined();
  });

  it("putThen with a chain runs `then` once, with the whole chain", async () => {
    const key = newKey("chain-then");
    const chain = chainAfter(key, null, undefined, 3);
    const then = { name: "count_chain", sql: "SELECT $18::text AS note FROM won", values: ["done"] };
    const row = await t.saver.putThen(chain, then);
    expect(row).toEqual({ note: "done" });
    expect(await rowCounts(t.admin, t.schema.name, key.threadId)).toMatchObject({ checkpoints: 3 });
  });

  it("putThen stores pending writes with the chain, and none when the put loses", async () => {
    const key = newKey("chain-writes");
    const chain = chainAfter(key, null, undefined, 2);
    const last = (chain[1] as PutCheckpointArgs).checkpoint.id;
    const writes = [
      {
        ...key,
        checkpointId: last,
        taskId: "ask",
        writes: [["__interrupt__", [{ value: "ok?" }], -3]] as const,
      },
      { ...key, checkpointId: last, taskId: "other", writes: [["log", "done"]] as const },
    ];
    const then = { name: "note_writes", sql: "SELECT $18::text AS note FROM won", values: ["paused"] };
    const sent = await t.statementsOf(async () => {
      expect(await t.saver.putThen(chain, then, writes)).toEqual({ note: "paused" });
    });
    expect(sent).toHaveLength(1);
    const head = await t.saver.getTuple(key);
    expect(head?.pendingWrites.map((w) => [w.taskId, w.channel, w.value, w.idx])).toEqual([
      ["ask", "__interrupt__", [{ value: "ok?" }], -3],
      ["other", "log", "done", 0],
    ]);
    const late = chainAfter(key, chain[0]?.checkpoint.id ?? null, { log: ["line 1"], version: 1 }, 1);
    const lateWrites = [
      { ...key, checkpointId: late[0]?.checkpoint.id as string, taskId: "x", writes: [["log", 1]] as const },
    ];
    const error = await t.saver.putThen(late, then, lateWrites).catch((caught: unknown) => caught);
    expect(isCheckpointConflict(error)).toBe(true);
    const { rows } = await t.admin.query(
      `SELECT count(*)::int AS n FROM "${t.schema.name}".checkpoint_writes w
         JOIN "${t.schema.name}".checkpoint_heads h USING (key_id) WHERE h.thread_id = $1`,
      [key.threadId],
    );
    expect(rows[0].n).toBe(2);
  });

  it("refuses writes of a checkpoint the chain does not store, sending nothing", async () => {
    const key = newKey("chain-writes-elsewhere");
    const chain = chainAfter(key, null, undefined, 1);
    const then = { name: "note_writes", sql: "SELECT $18::text AS note FROM won", values: ["paused"] };
    const stray = [
      {
        ...key,
        checkpointId: chainAfter(key, null, undefined, 1)[0]?.checkpoint.id as string,
        taskId: "x",
        writes: [["a", 1]] as const,
      },
    ];
    const sent = await t.statementsOf(async () => {
      const error = await t.saver.putThen(chain, then, stray).catch((caught: unknown) => caught);
      expect(isPostgresSaverError(error, "INVALID_SAVER_INPUT")).toBe(true);
    });
    expect(sent).toEqual([]);
  });
});
