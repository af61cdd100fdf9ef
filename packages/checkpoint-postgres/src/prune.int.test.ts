import type { CheckpointKey, CheckpointTuple } from "@layover/checkpoint";
import { describe, expect, it } from "vitest";
import { boundaryId } from "./prune.ts";
import { deleteKeyRowsSql, lockThreadHeadsSql } from "./sql/delete-threads.ts";
import { growList, idAt, message, newKey, putArgs } from "./test-support/checkpoints.ts";
import { rowCounts } from "./test-support/pools.ts";
import { useSaverSchema } from "./test-support/saver-schema.ts";

const t = useSaverSchema("prune", { listDeltas: { minSnapshotBytes: 1_000_000 } });
const DAY = 86_400_000;

async function listed(key: CheckpointKey): Promise<CheckpointTuple[]> {
  const out: CheckpointTuple[] = [];
  for await (const tuple of t.saver.list(key)) out.push(tuple);
  return out;
}

/** `count` checkpoints on `key` with ids at the given times (oldest first); returns their ids. */
async function putAt(key: CheckpointKey, times: number[]): Promise<string[]> {
  const ids: string[] = [];
  for (const [i, time] of times.entries()) {
    const args = putArgs(key, {
      values: { counter: i },
      versions: { counter: i + 1 },
      changed: ["counter"],
      parentId: ids.at(-1) ?? null,
    });
    args.checkpoint.id = idAt(time, i);
    await t.saver.put(args);
    ids.push(args.checkpoint.id);
  }
  return ids;
}

describe("prune keep_latest", () => {
  it("keeps each namespace's head readable, with its writes, and its list delta chain materialised", async () => {
    const key = newKey("keep-latest");
    const child = { threadId: key.threadId, ns: "child:1" };
    const other = newKey("untouched");
    const { ids, lists } = await growList(t.saver, key, 40, { size: 30 });
    await growList(t.saver, child, 5, { size: 10 });
    await growList(t.saver, other, 5, { size: 10 });
    const head = ids.at(-1) as string;
    await t.saver.putWrites({
      ...key,
      checkpointId: head,
      taskId: "waiting",
      writes: [["__interrupt__", "ok?", -4]],
    });
    await t.saver.putWrites({ ...key, checkpointId: ids[3] as string, taskId: "old", writes: [["x", 1]] });
    const before = await rowCounts(t.pool, t.name, other.threadId);

    const result = await t.saver.prune({ threadIds: [key.threadId] }, { strategy: "keep_latest" });

    expect(result).toMatchObject({ threads: 1, checkpoints: 39 + 4, writes: 1, materialized: 2 });
    expect((await listed(key)).map((tuple) => tuple.checkpoint.id)).toEqual([head]);
    expect(await listed(child)).toHaveLength(1);
    const kept = await t.saver.getTuple(key);
    expect(kept?.checkpoint.channelValues).toEqual({ messages: lists.at(-1), step: 39 });
    expect(kept?.pendingWrites).toEqual([
      { taskId: "waiting", channel: "__interrupt__", idx: -4, value: "ok?" },
    ]);
    expect(await rowCounts(t.pool, t.name, key.threadId)).toEqual({
      heads: 2,
      checkpoints: 2,
      blobs: 2,
      writes: 1,
    });
    expect(await rowCounts(t.pool, t.name, other.threadId)).toEqual(before);
  });

  it("leaves the kept head resumable: the next put appends to it as a delta", async () => {
    const key = newKey("resume-after-prune");
    const { ids, lists } = await growList(t.saver, key, 10, { size: 10 });
    await t.saver.prune({ threadIds: [key.threadId] }, { strategy: "keep_latest" });
    const last = lists.at(-1) as unknown[];
    const next = putArgs(key, {
      values: { messages: [...last, message(10, 10)], step: 10 },
      versions: { messages: 11, step: 11 },
      changed: ["messages", "step"],
      parentId: ids.at(-1) as string,
      appends: { messages: { baseVersion: 10, baseLength: last.length } },
    });
    await t.saver.put(next);
    const { rows } = await t.pool.query(
      `SELECT b.version, b.base_version FROM "${t.name}".checkpoint_blobs b
       JOIN "${t.name}".checkpoint_heads h USING (key_id)
       WHERE h.thread_id = $1 AND b.channel = 'messages' ORDER BY b.version`,
      [key.threadId],
    );
    expect(rows).toEqual([
      { version: "10", base_version: null },
      { version: "11", base_version: "10" },
    ]);
    expect((await t.saver.getTuple(key))?.checkpoint.channelValues.messages).toEqual([
      ...last,
      message(10, 10),
    ]);
  });

  it("with olderThan, deletes only history older than the date, never a head", async () => {
    const now = Date.now();
    const mixed = newKey("mixed-age");
    const idle = newKey("idle");
    const fresh = newKey("fresh");
    const mixedIds = await putAt(mixed, [now - 3 * DAY, now - 2 * DAY, now - 1000, now - 500]);
    const idleIds = await putAt(idle, [now - 5 * DAY, now - 4 * DAY, now - 3 * DAY]);
    const freshIds = await putAt(fresh, [now - 300, now - 200]);

    await t.saver.prune({ olderThan: new Date(now - DAY) }, { strategy: "keep_latest" });

    expect((await listed(mixed)).map((tuple) => tuple.checkpoint.id)).toEqual(mixedIds.slice(2).reverse());
    expect((await listed(idle)).map((tuple) => tuple.checkpoint.id)).toEqual([idleIds[2]]);
    expect((await listed(fresh)).map((tuple) => tuple.checkpoint.id)).toEqual(freshIds.slice().reverse());
    expect((await t.saver.getTuple(idle))?.checkpoint.channelValues).toEqual({ counter: 2 });
  });
});

describe("prune delete and deleteThread", () => {
  it("with olderThan, deletes threads whose every head is older than the date", async () => {
    const now = Date.now();
    const idle = newKey("idle-delete");
    const active = newKey("active");
    await putAt(idle, [now - 9 * DAY, now - 8 * DAY]);
    await putAt({ threadId: idle.threadId, ns: "child:1" }, [now - 8 * DAY]);
    await putAt(active, [now - 9 * DAY]);
    await putAt({ threadId: active.threadId, ns: "child:1" }, [now - 100]);

    const result = await t.saver.prune({ olderThan: new Date(now - 7 * DAY) }, { strategy: "delete" });

    expect(result.threads).toBeGreaterThanOrEqual(1);
    expect(await rowCounts(t.pool, t.name, idle.threadId)).toEqual({
      heads: 0,
      checkpoints: 0,
      blobs: 0,
      writes: 0,
    });
    expect(await rowCounts(t.pool, t.name, active.threadId)).toMatchObject({
      heads: 2,
      checkpoints: 2,
    });
  });

  it("with threadIds, deletes exactly those threads", async () => {
    const [a, b, c] = [newKey("del-a"), newKey("del-b"), newKey("del-c")];
    for (const key of [a, b, c]) await growList(t.saver, key, 3, { size: 5 });
    const result = await t.saver.prune({ threadIds: [a.threadId, b.threadId] }, { strategy: "delete" });
    expect(result).toMatchObject({ threads: 2, checkpoints: 6, blobs: 6 });
    expect(await t.saver.getTuple(a)).toBeUndefined();
    expect(await t.saver.getTuple(b)).toBeUndefined();
    expect((await listed(c)).length).toBe(3);
  });

  it("putWrites racing deleteThread waits for it, then stores nothing: no row outlives the thread", async () => {
    const key = newKey("writes-delete-race");
    const first = putArgs(key, { values: { n: 1 }, versions: { n: 1 }, changed: ["n"], parentId: null });
    await t.saver.put(first);
    const deleter = await t.pool.connect();
    try {
      // deleteThread's own two statements, committed a moment after the writes were sent.
      await deleter.query("BEGIN");
      const heads = await deleter.query(lockThreadHeadsSql(`"${t.name}"`), [[key.threadId]]);
      await deleter.query(deleteKeyRowsSql(`"${t.name}"`), [heads.rows.map((r) => r.key_id)]);
      const writing = t.saver
        .putWrites({ ...key, checkpointId: first.checkpoint.id, taskId: "late", writes: [["x", "late"]] })
        .catch((e: unknown) => e);
      await new Promise((resolve) => setTimeout(resolve, 50));
      await deleter.query("COMMIT");
      expect(await writing).toMatchObject({ code: "CHECKPOINT_NOT_FOUND" });
    } finally {
      deleter.release();
    }
    const orphans = await t.pool.query(
      `SELECT count(*)::int AS n FROM "${t.name}".checkpoint_writes w
        WHERE NOT EXISTS (SELECT 1 FROM "${t.name}".checkpoint_heads h WHERE h.key_id = w.key_id)`,
    );
    expect(orphans.rows[0].n).toBe(0);
  });
});

describe("boundaryId", () => {
  it("sorts below every UUIDv7 made at or after the date", () => {
    const at = Date.UTC(2024, 0, 2, 3, 4, 5, 6);
    expect(boundaryId(new Date(at)) <= idAt(at)).toBe(true);
    expect(boundaryId(new Date(at)) > idAt(at - 1)).toBe(true);
  });
});
