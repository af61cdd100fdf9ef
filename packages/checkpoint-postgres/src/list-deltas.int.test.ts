import { jsonSerializer } from "@layover/checkpoint";
import { describe, expect, it } from "vitest";
import { PostgresSaver } from "./postgres-saver.ts";
import { growList, message, newKey, putArgs } from "./test-support/checkpoints.ts";
import { channelBytes } from "./test-support/pools.ts";
import { useSaverSchema } from "./test-support/saver-schema.ts";

const t = useSaverSchema("list_deltas");

const bytes = (threadId: string) => channelBytes(t.pool, t.name, threadId, "messages");

async function expectEveryCheckpoint(s: PostgresSaver, threadId: string, ids: string[], lists: unknown[][]) {
  for (const [i, id] of ids.entries()) {
    const tuple = await s.getTuple({ threadId, ns: "", checkpointId: id });
    expect(tuple?.checkpoint.channelValues.messages).toEqual(lists[i]);
  }
}

describe("lists that grow by appending are stored as deltas", () => {
  it("costs O(N): 500 appends store a small multiple of the final list, 100 vs 500 grows ~linearly", async () => {
    const small = newKey("grow-100");
    const large = newKey("grow-500");
    await growList(t.saver, small, 100);
    const { lists } = await growList(t.saver, large, 500);
    const [at100, at500] = [await bytes(small.threadId), await bytes(large.threadId)];
    const final500 = jsonSerializer.dumps(lists[499]).length;
    const final100 = jsonSerializer.dumps(lists[99]).length;
    // Every delta once, plus geometric snapshots: at most about three times the final list.
    expect(at500.bytes).toBeLessThan(3.2 * final500);
    expect(at100.bytes).toBeLessThan(3.2 * final100);
    expect(at500.bytes / at100.bytes).toBeLessThan(10);
    expect(at500.rows).toBe(500);
    expect(at500.full).toBeLessThan(10);
  });

  it("without deltas the same run costs O(N²) (the baseline the deltas beat)", async () => {
    const full = new PostgresSaver({ pool: t.pool, schema: t.name, listDeltas: false });
    const small = newKey("full-100");
    const large = newKey("full-500");
    await growList(full, small, 100);
    await growList(full, large, 500);
    const [at100, at500] = [await bytes(small.threadId), await bytes(large.threadId)];
    expect(at500.bytes / at100.bytes).toBeGreaterThan(20);
    expect(at500.full).toBe(500);
  });

  it("reads back every checkpoint's list exactly, across snapshots and chains", async () => {
    const tight = new PostgresSaver({
      pool: t.pool,
      schema: t.name,
      listDeltas: { minSnapshotBytes: 600, maxChainLength: 7 },
    });
    const key = newKey("exact");
    const { ids, lists } = await growList(tight, key, 120, { size: 40 });
    expect((await bytes(key.threadId)).full).toBeGreaterThan(3);
    await expectEveryCheckpoint(tight, key.threadId, ids, lists);
    await expectEveryCheckpoint(t.saver, key.threadId, ids, lists);
    const listed = [];
    for await (const tuple of tight.list(key, { limit: 30 }))
      listed.push(tuple.checkpoint.channelValues.messages);
    expect(listed).toEqual(lists.slice(-30).reverse());
  });

  it("keeps special values and undefined slots of appended items", async () => {
    const key = newKey("special");
    const base = [new Date(0), undefined];
    const first = putArgs(key, {
      values: { list: base },
      versions: { list: 1 },
      changed: ["list"],
      parentId: null,
    });
    await t.saver.put(first);
    const grown = [...base, new Map([["k", 1n]]), undefined, new Set(["s"])];
    const second = putArgs(key, {
      values: { list: grown },
      versions: { list: 2 },
      changed: ["list"],
      parentId: first.checkpoint.id,
      appends: { list: { baseVersion: 1, baseLength: 2 } },
    });
    await t.saver.put(second);
    const value = (await t.saver.getTuple(key))?.checkpoint.channelValues.list as unknown[];
    expect(value).toEqual(grown);
    expect(value).toHaveLength(5);
    expect(value[2]).toBeInstanceOf(Map);
  });
});

describe("a hint that does not match what is stored falls back to the full value", () => {
  it("when the stored base has another length (the old list was changed in place)", async () => {
    const key = newKey("stale-length");
    const first = putArgs(key, {
      values: { list: ["a"] },
      versions: { list: 1 },
      changed: ["list"],
      parentId: null,
    });
    await t.saver.put(first);
    const second = putArgs(key, {
      values: { list: ["a", "mutated", "b"] },
      versions: { list: 2 },
      changed: ["list"],
      parentId: first.checkpoint.id,
      appends: { list: { baseVersion: 1, baseLength: 2 } },
    });
    await t.saver.put(second);
    expect((await t.saver.getTuple(key))?.checkpoint.channelValues.list).toEqual(["a", "mutated", "b"]);
    expect((await channelBytes(t.pool, t.name, key.threadId, "list")).full).toBe(2);
  });

  it("when the base version was never stored", async () => {
    const key = newKey("missing-base");
    const first = putArgs(key, {
      values: { list: ["a"] },
      versions: { list: 1 },
      changed: ["list"],
      parentId: null,
    });
    await t.saver.put(first);
    const second = putArgs(key, {
      values: { list: ["a", "b"] },
      versions: { list: 3 },
      changed: ["list"],
      parentId: first.checkpoint.id,
      appends: { list: { baseVersion: 2, baseLength: 1 } },
    });
    await t.saver.put(second);
    expect((await t.saver.getTuple(key))?.checkpoint.channelValues.list).toEqual(["a", "b"]);
  });

  it("for a fork (expectedHead is not the parent), which always stores full values", async () => {
    const key = newKey("fork");
    const { ids, lists } = await growList(t.saver, key, 3, { size: 10 });
    const fork = putArgs(key, {
      values: { messages: [...(lists[0] as unknown[]), message(99, 10)], step: 9 },
      versions: { messages: 5, step: 5 },
      changed: ["messages", "step"],
      parentId: ids[0] as string,
      expectedHead: ids[2] as string,
      appends: { messages: { baseVersion: 1, baseLength: 1 } },
    });
    await t.saver.put(fork);
    const { rows } = await t.pool.query(
      `SELECT b.base_version FROM "${t.name}".checkpoint_blobs b
       JOIN "${t.name}".checkpoint_heads h USING (key_id)
       WHERE h.thread_id = $1 AND b.channel = 'messages' AND b.version = 5`,
      [key.threadId],
    );
    expect(rows).toEqual([{ base_version: null }]);
    expect((await t.saver.getTuple(key))?.checkpoint.channelValues.messages).toEqual([
      lists[0]![0],
      message(99, 10),
    ]);
    await expectEveryCheckpoint(t.saver, key.threadId, ids, lists);
  });
});
