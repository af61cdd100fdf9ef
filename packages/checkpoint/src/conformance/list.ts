import { describe, expect, it } from "vitest";
import type { Checkpoint, CheckpointKey, CheckpointSaver, ListCheckpointsOptions } from "../types.ts";
import {
  type ConformanceEnv,
  collect,
  ids,
  listIds,
  meta,
  putChain,
  putCheckpoint,
  type UseEnv,
  uniqueThreadId,
} from "./helpers.ts";

export function describeList(use: UseEnv): void {
  describe("list", () => {
    it("returns nothing for an unknown thread", () => unknownThread(use()));
    it("returns checkpoints newest first, whole", () => newestFirst(use()));
    it("honours limit", () => limit(use()));
    it("honours before (strictly older than the given id)", () => before(use()));
    it("filters on metadata", () => filter(use()));
    it("keeps namespaces apart", () => namespaces(use()));
  });
}

function reversedIds(chain: readonly Checkpoint[]): string[] {
  return chain.map((checkpoint) => checkpoint.id).reverse();
}

async function unknownThread({ saver }: ConformanceEnv): Promise<void> {
  expect(await collect(saver.list({ threadId: uniqueThreadId("missing"), ns: "" }))).toEqual([]);
  expect(await collect(saver.list({ threadId: uniqueThreadId("missing"), ns: "" }, { limit: 5 }))).toEqual(
    [],
  );
}

async function newestFirst({ saver, key }: ConformanceEnv): Promise<void> {
  const chain = await putChain(saver, key, 4);
  const tuples = await collect(saver.list(key));
  expect(ids(tuples)).toEqual(reversedIds(chain));
  expect(tuples.map((tuple) => tuple.parentId)).toEqual([chain[2]!.id, chain[1]!.id, chain[0]!.id, null]);
  expect(tuples.map((tuple) => tuple.checkpoint.channelValues)).toEqual([
    { counter: 3 },
    { counter: 2 },
    { counter: 1 },
    { counter: 0 },
  ]);
  expect(tuples.map((tuple) => tuple.metadata.step)).toEqual([2, 1, 0, -1]);
  for (const tuple of tuples) {
    expect(tuple.threadId).toBe(key.threadId);
    expect(tuple.ns).toBe(key.ns);
  }
}

async function limit({ saver, key }: ConformanceEnv): Promise<void> {
  const chain = await putChain(saver, key, 4);
  const newest = reversedIds(chain);
  expect(ids(await collect(saver.list(key, { limit: 2 })))).toEqual(newest.slice(0, 2));
  expect(ids(await collect(saver.list(key, { limit: 1 })))).toEqual(newest.slice(0, 1));
  expect(ids(await collect(saver.list(key, { limit: 10 })))).toEqual(newest);
}

async function before({ saver, key }: ConformanceEnv): Promise<void> {
  const chain = await putChain(saver, key, 4);
  const [c0, c1, c2, c3] = chain.map((checkpoint) => checkpoint.id) as [string, string, string, string];
  expect(ids(await collect(saver.list(key, { before: c3 })))).toEqual([c2, c1, c0]);
  expect(ids(await collect(saver.list(key, { before: c2 })))).toEqual([c1, c0]);
  expect(ids(await collect(saver.list(key, { before: c0 })))).toEqual([]);
  expect(ids(await collect(saver.list(key, { before: c3, limit: 1 })))).toEqual([c2]);
}

/** input(-1), loop(0), loop(1), update(2, user "ann"), loop(3). */
async function putMixedSources(saver: CheckpointSaver, key: CheckpointKey): Promise<string[]> {
  const metadata = [
    meta(-1, "input"),
    meta(0, "loop"),
    meta(1, "loop"),
    meta(2, "update", { user: "ann" }),
    meta(3, "loop", { user: "bob" }),
  ];
  const out: string[] = [];
  for (const [i, entry] of metadata.entries()) {
    const checkpoint = await putCheckpoint(saver, key, {
      parentId: out.at(-1) ?? null,
      values: { counter: i },
      versions: { counter: i + 1 },
      metadata: entry,
    });
    out.push(checkpoint.id);
  }
  return out;
}

async function filter({ saver, key }: ConformanceEnv): Promise<void> {
  const [input, loop0, loop1, update, loop3] = (await putMixedSources(saver, key)) as [
    string,
    string,
    string,
    string,
    string,
  ];
  const listed = async (options: ListCheckpointsOptions) => ids(await collect(saver.list(key, options)));
  expect(await listed({ filter: { source: "loop" } })).toEqual([loop3, loop1, loop0]);
  expect(await listed({ filter: { step: 2 } })).toEqual([update]);
  expect(await listed({ filter: { source: "input" } })).toEqual([input]);
  expect(await listed({ filter: { source: "loop", step: 1 } })).toEqual([loop1]);
  expect(await listed({ filter: { user: "ann" } })).toEqual([update]);
  expect(await listed({ filter: { source: "fork" } })).toEqual([]);
  expect(await listed({ filter: { source: "loop", step: 2 } })).toEqual([]);
  expect(await listed({ filter: { source: "loop" }, limit: 2 })).toEqual([loop3, loop1]);
  expect(await listed({ filter: { source: "loop" }, before: loop3 })).toEqual([loop1, loop0]);
  expect(await listed({ filter: {} })).toEqual([loop3, update, loop1, loop0, input]);
}

async function namespaces({ saver, key }: ConformanceEnv): Promise<void> {
  const child: CheckpointKey = { threadId: key.threadId, ns: "child:1" };
  const root = await putChain(saver, key, 2);
  const sub = await putChain(saver, child, 3);
  expect(await listIds(saver, key)).toEqual(reversedIds(root));
  expect(await listIds(saver, child)).toEqual(reversedIds(sub));
  expect((await saver.getTuple(key))?.checkpoint.id).toBe(root[1]!.id);
  const childHead = await saver.getTuple(child);
  expect(childHead?.checkpoint.id).toBe(sub[2]!.id);
  expect(childHead?.ns).toBe("child:1");
  expect(await saver.getTuple({ ...key, checkpointId: sub[0]!.id })).toBeUndefined();
  expect(await saver.getTuple({ ...child, checkpointId: root[0]!.id })).toBeUndefined();
  expect(await listIds(saver, { threadId: key.threadId, ns: "child:2" })).toEqual([]);
}
