import { describe, expect, it } from "vitest";
import { newCheckpointId } from "../ids.ts";
import { type ConformanceEnv, headId, meta, putChain, putCheckpoint, type UseEnv } from "./helpers.ts";

export function describeReadAndPut(use: UseEnv): void {
  describe("getTuple and put", () => {
    it("getTuple on an unknown thread returns undefined", () => unknownThread(use()));
    it("getTuple of an unknown checkpoint id returns undefined", () => unknownCheckpointId(use()));
    it("getTuple without checkpointId returns the head (the latest put)", () => headIsLatest(use()));
    it("getTuple returns what put stored", () => putThenGet(use()));
    it("put stores only changed channels yet every checkpoint reads back whole", () =>
      changedChannels(use()));
  });
}

async function unknownThread({ saver, threadId }: ConformanceEnv): Promise<void> {
  expect(await saver.getTuple({ threadId, ns: "" })).toBeUndefined();
  expect(await saver.getTuple({ threadId, ns: "child:1" })).toBeUndefined();
  expect(await saver.getTuple({ threadId, ns: "", checkpointId: newCheckpointId() })).toBeUndefined();
}

async function unknownCheckpointId({ saver, key }: ConformanceEnv): Promise<void> {
  await putChain(saver, key, 2);
  expect(await saver.getTuple({ ...key, checkpointId: newCheckpointId() })).toBeUndefined();
}

async function headIsLatest({ saver, key }: ConformanceEnv): Promise<void> {
  const first = await putCheckpoint(saver, key, { parentId: null, values: { counter: 0 } });
  expect(await headId(saver, key)).toBe(first.id);
  const second = await putCheckpoint(saver, key, {
    parentId: first.id,
    values: { counter: 1 },
    versions: { counter: 2 },
  });
  const head = await saver.getTuple(key);
  expect(head?.checkpoint.id).toBe(second.id);
  expect(head?.checkpoint.channelValues).toEqual({ counter: 1 });
  expect(head?.parentId).toBe(first.id);
  const explicitUndefined = await saver.getTuple({ ...key, checkpointId: undefined });
  expect(explicitUndefined?.checkpoint.id).toBe(second.id);
}

async function putThenGet({ saver, key }: ConformanceEnv): Promise<void> {
  const [first] = await putChain(saver, key, 1);
  const metadata = meta(0, "loop", { writes: { agent: { messages: ["hi"] } }, user: "ann", attempt: 2 });
  const checkpoint = await putCheckpoint(saver, key, {
    parentId: first!.id,
    values: { messages: ["hi", "there"], count: 2, flag: null },
    versions: { messages: 3, count: 2, flag: 1 },
    updatedChannels: ["messages", "count"],
    pendingSends: [
      { node: "worker", arg: { item: 1 } },
      { node: "worker", arg: { item: 2 }, timeout: { runTimeout: 500, refreshOn: "auto" } },
    ],
    metadata,
  });
  const tuple = await saver.getTuple({ ...key, checkpointId: checkpoint.id });
  expect(tuple).toBeDefined();
  expect(tuple?.threadId).toBe(key.threadId);
  expect(tuple?.ns).toBe(key.ns);
  expect(tuple?.parentId).toBe(first!.id);
  expect(tuple?.checkpoint).toEqual(checkpoint);
  expect(tuple?.checkpoint.channelValues).toEqual({ messages: ["hi", "there"], count: 2, flag: null });
  expect(tuple?.checkpoint.channelVersions).toEqual({ messages: 3, count: 2, flag: 1 });
  expect(tuple?.checkpoint.updatedChannels).toEqual(["messages", "count"]);
  // A Send's own timeout is kept with it (the worker that runs the task may not be the one that planned it).
  expect(tuple?.checkpoint.pendingSends).toEqual([
    { node: "worker", arg: { item: 1 } },
    { node: "worker", arg: { item: 2 }, timeout: { runTimeout: 500, refreshOn: "auto" } },
  ]);
  expect(tuple?.metadata).toEqual(metadata);
  expect(tuple?.pendingWrites).toEqual([]);
  const firstTuple = await saver.getTuple({ ...key, checkpointId: first!.id });
  expect(firstTuple?.parentId).toBeNull();
  expect(firstTuple?.metadata).toEqual(meta(-1, "input"));
}

/**
 * Three checkpoints: the second changes only `a`, the third only `b`. Each must read back with
 * the values of its own versions, whichever checkpoint first stored them.
 */
async function changedChannels({ saver, key }: ConformanceEnv): Promise<void> {
  const first = await putCheckpoint(saver, key, {
    parentId: null,
    values: { a: "a1", b: { nested: "b1" } },
    versions: { a: 1, b: 1 },
  });
  const second = await putCheckpoint(saver, key, {
    parentId: first.id,
    values: { a: "a2", b: { nested: "b1" } },
    versions: { a: 2, b: 1 },
    changed: ["a"],
  });
  const third = await putCheckpoint(saver, key, {
    parentId: second.id,
    values: { a: "a2", b: { nested: "b3" }, c: 0 },
    versions: { a: 2, b: 2, c: 1 },
    changed: ["b", "c"],
  });
  const read = async (id: string) =>
    (await saver.getTuple({ ...key, checkpointId: id }))?.checkpoint.channelValues;
  expect(await read(third.id)).toEqual({ a: "a2", b: { nested: "b3" }, c: 0 });
  expect(await read(second.id)).toEqual({ a: "a2", b: { nested: "b1" } });
  expect(await read(first.id)).toEqual({ a: "a1", b: { nested: "b1" } });
  expect((await saver.getTuple(key))?.checkpoint.channelValues).toEqual({
    a: "a2",
    b: { nested: "b3" },
    c: 0,
  });
}
