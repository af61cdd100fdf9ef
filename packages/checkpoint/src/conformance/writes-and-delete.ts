import { describe, expect, it } from "vitest";
import type { CheckpointKey, CheckpointSaver, PendingWrite } from "../types.ts";
import {
  type ConformanceEnv,
  collect,
  headId,
  listIds,
  putChain,
  putCheckpoint,
  sortWrites,
  type UseEnv,
  uniqueThreadId,
} from "./helpers.ts";

export function describeWritesAndDelete(use: UseEnv): void {
  describe("putWrites", () => {
    it("records writes against that checkpoint only", () => writesBelongToCheckpoint(use()));
    it("replaces a write to the same (task, idx)", () => sameSlotReplaces(use()));
    it("keeps an explicit negative idx apart from idx 0", () => negativeIdx(use()));
    it("accumulates writes of different tasks and calls", () => tasksAccumulate(use()));
  });
  describe("deleteThread", () => {
    it("removes the thread in every namespace and leaves other threads alone", () => deleteThread(use()));
  });
}

async function pendingWrites(saver: CheckpointSaver, key: CheckpointKey, checkpointId: string) {
  const tuple = await saver.getTuple({ ...key, checkpointId });
  expect(tuple, `checkpoint ${checkpointId} should exist`).toBeDefined();
  return sortWrites(tuple?.pendingWrites ?? []);
}

function write(taskId: string, idx: number, channel: string, value: unknown): PendingWrite {
  return { taskId, idx, channel, value };
}

async function writesBelongToCheckpoint({ saver, key }: ConformanceEnv): Promise<void> {
  const [c0, c1] = await putChain(saver, key, 2);
  await saver.putWrites({
    ...key,
    checkpointId: c0!.id,
    taskId: "task-1",
    writes: [
      ["a", { x: 1 }],
      ["b", "two"],
    ],
  });
  expect(await pendingWrites(saver, key, c0!.id)).toEqual([
    write("task-1", 0, "a", { x: 1 }),
    write("task-1", 1, "b", "two"),
  ]);
  expect(await pendingWrites(saver, key, c1!.id)).toEqual([]);
  expect((await saver.getTuple(key))?.pendingWrites).toEqual([]);
  const listed = await collect(saver.list(key));
  expect(listed.map((tuple) => sortWrites(tuple.pendingWrites).length)).toEqual([0, 2]);
  const child = { threadId: key.threadId, ns: "child:1" };
  await putChain(saver, child, 1);
  expect((await saver.getTuple(child))?.pendingWrites).toEqual([]);
}

async function sameSlotReplaces({ saver, key }: ConformanceEnv): Promise<void> {
  const [c0] = await putChain(saver, key, 1);
  const target = { ...key, checkpointId: c0!.id, taskId: "task-1" };
  await saver.putWrites({ ...target, writes: [["a", "first"]] });
  await saver.putWrites({ ...target, writes: [["a", "second"]] });
  expect(await pendingWrites(saver, key, c0!.id)).toEqual([write("task-1", 0, "a", "second")]);
  await saver.putWrites({ ...target, writes: [["a", "third", 0]] });
  expect(await pendingWrites(saver, key, c0!.id)).toEqual([write("task-1", 0, "a", "third")]);
}

async function negativeIdx({ saver, key }: ConformanceEnv): Promise<void> {
  const [c0] = await putChain(saver, key, 1);
  const target = { ...key, checkpointId: c0!.id, taskId: "task-1" };
  await saver.putWrites({ ...target, writes: [["a", "value"]] });
  await saver.putWrites({ ...target, writes: [["__error__", { message: "boom" }, -3]] });
  expect(await pendingWrites(saver, key, c0!.id)).toEqual([
    write("task-1", -3, "__error__", { message: "boom" }),
    write("task-1", 0, "a", "value"),
  ]);
  await saver.putWrites({ ...target, writes: [["__error__", { message: "again" }, -3]] });
  await saver.putWrites({ ...target, writes: [["__interrupt__", "ask", -4]] });
  expect(await pendingWrites(saver, key, c0!.id)).toEqual([
    write("task-1", -4, "__interrupt__", "ask"),
    write("task-1", -3, "__error__", { message: "again" }),
    write("task-1", 0, "a", "value"),
  ]);
}

async function tasksAccumulate({ saver, key }: ConformanceEnv): Promise<void> {
  const [c0] = await putChain(saver, key, 1);
  const target = { ...key, checkpointId: c0!.id };
  await saver.putWrites({ ...target, taskId: "task-a", writes: [["x", 1]] });
  await saver.putWrites({ ...target, taskId: "task-b", writes: [["x", 2]] });
  await saver.putWrites({ ...target, taskId: "task-a", writes: [["y", 3, 1]] });
  expect(await pendingWrites(saver, key, c0!.id)).toEqual([
    write("task-a", 0, "x", 1),
    write("task-a", 1, "y", 3),
    write("task-b", 0, "x", 2),
  ]);
}

async function deleteThread({ saver, key }: ConformanceEnv): Promise<void> {
  const child: CheckpointKey = { threadId: key.threadId, ns: "child:1" };
  const other: CheckpointKey = { threadId: uniqueThreadId("other"), ns: "" };
  const [root0] = await putChain(saver, key, 2);
  const [child0] = await putChain(saver, child, 2);
  const otherChain = await putChain(saver, other, 2);
  await saver.putWrites({ ...key, checkpointId: root0!.id, taskId: "t", writes: [["a", 1]] });
  await saver.putWrites({ ...child, checkpointId: child0!.id, taskId: "t", writes: [["a", 1]] });
  await saver.putWrites({ ...other, checkpointId: otherChain[0]!.id, taskId: "t", writes: [["a", "kept"]] });

  await saver.deleteThread(key.threadId);

  for (const gone of [key, child]) {
    expect(await saver.getTuple(gone)).toBeUndefined();
    expect(await listIds(saver, gone)).toEqual([]);
  }
  expect(await saver.getTuple({ ...key, checkpointId: root0!.id })).toBeUndefined();
  expect(await saver.getTuple({ ...child, checkpointId: child0!.id })).toBeUndefined();
  expect(await listIds(saver, other)).toEqual(otherChain.map((checkpoint) => checkpoint.id).reverse());
  expect((await saver.getTuple(other))?.checkpoint.channelValues).toEqual({ counter: 1 });
  expect(await pendingWrites(saver, other, otherChain[0]!.id)).toEqual([write("t", 0, "a", "kept")]);

  const fresh = await putCheckpoint(saver, key, { parentId: null, values: { counter: 0 } });
  expect(await headId(saver, key)).toBe(fresh.id);
  expect(await pendingWrites(saver, key, fresh.id)).toEqual([]);
  await putCheckpoint(saver, child, { parentId: null, values: { counter: 0 } });
  await saver.deleteThread(other.threadId);
}
