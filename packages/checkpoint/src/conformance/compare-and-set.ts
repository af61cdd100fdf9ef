import { describe, expect, it } from "vitest";
import type { PutCheckpointArgs } from "../types.ts";
import {
  type ConformanceEnv,
  collect,
  expectConflict,
  headId,
  listIds,
  makeCheckpoint,
  meta,
  putChain,
  putCheckpoint,
  type UseEnv,
} from "./helpers.ts";

export function describeCompareAndSet(use: UseEnv): void {
  describe("put is compare-and-set on the head", () => {
    it("rejects a put whose parent is not the head and writes nothing", () => staleParent(use()));
    it("rejects a first put (parentId null) on a thread that has a head", () => firstPutOnHead(use()));
    it("checks expectedHead instead of parentId when given", () => expectedHeadMismatch(use()));
    it("lets a fork from an older checkpoint succeed when expectedHead names the head", () => fork(use()));
    it("lets exactly one of two concurrent puts from the same parent win", () => concurrent(use()));
  });
}

/** c0 → c1 (head, `value` at version 2). A racer from c0 also writes version 2 of `value`. */
async function staleParent({ saver, key }: ConformanceEnv): Promise<void> {
  const c0 = await putCheckpoint(saver, key, {
    parentId: null,
    values: { value: "zero" },
    versions: { value: 1 },
  });
  const c1 = await putCheckpoint(saver, key, {
    parentId: c0.id,
    values: { value: "one" },
    versions: { value: 2 },
  });
  const racer = putCheckpoint(saver, key, {
    parentId: c0.id,
    values: { value: "racer", extra: true },
    versions: { value: 2, extra: 1 },
    metadata: meta(0, "loop", { racer: true }),
  });
  await expectConflict(racer);
  expect(await headId(saver, key)).toBe(c1.id);
  expect(await listIds(saver, key)).toEqual([c1.id, c0.id]);
  expect((await saver.getTuple(key))?.checkpoint.channelValues).toEqual({ value: "one" });
  expect((await saver.getTuple({ ...key, checkpointId: c0.id }))?.checkpoint.channelValues).toEqual({
    value: "zero",
  });
  expect(await collect(saver.list(key, { filter: { racer: true } }))).toEqual([]);
}

async function firstPutOnHead({ saver, key }: ConformanceEnv): Promise<void> {
  const [c0] = await putChain(saver, key, 1);
  const second = makeCheckpoint({ values: { counter: 99 } });
  const args: PutCheckpointArgs = {
    ...key,
    checkpoint: second,
    metadata: meta(-1, "input"),
    parentId: null,
    changedChannels: ["counter"],
  };
  await expectConflict(saver.put(args));
  expect(await headId(saver, key)).toBe(c0!.id);
  expect(await listIds(saver, key)).toEqual([c0!.id]);
  expect(await saver.getTuple({ ...key, checkpointId: second.id })).toBeUndefined();
  expect((await saver.getTuple(key))?.checkpoint.channelValues).toEqual({ counter: 0 });
}

async function expectedHeadMismatch({ saver, key }: ConformanceEnv): Promise<void> {
  const [c0, c1] = await putChain(saver, key, 2);
  const stale = putCheckpoint(saver, key, {
    parentId: c1!.id,
    expectedHead: c0!.id,
    values: { counter: 2 },
    versions: { counter: 3 },
  });
  await expectConflict(stale);
  const noHead = putCheckpoint(saver, key, {
    parentId: c1!.id,
    expectedHead: null,
    values: { counter: 2 },
    versions: { counter: 3 },
  });
  await expectConflict(noHead);
  expect(await listIds(saver, key)).toEqual([c1!.id, c0!.id]);
}

async function fork({ saver, key }: ConformanceEnv): Promise<void> {
  const [c0, c1, c2] = await putChain(saver, key, 3);
  const forked = await putCheckpoint(saver, key, {
    parentId: c0!.id,
    expectedHead: c2!.id,
    values: { counter: 100 },
    versions: { counter: 4 },
    metadata: meta(0, "fork"),
  });
  const head = await saver.getTuple(key);
  expect(head?.checkpoint.id).toBe(forked.id);
  expect(head?.parentId).toBe(c0!.id);
  expect(head?.checkpoint.channelValues).toEqual({ counter: 100 });
  expect(head?.metadata.source).toBe("fork");
  expect(await listIds(saver, key)).toEqual([forked.id, c2!.id, c1!.id, c0!.id]);
  expect((await saver.getTuple({ ...key, checkpointId: c2!.id }))?.checkpoint.channelValues).toEqual({
    counter: 2,
  });
  const next = await putCheckpoint(saver, key, {
    parentId: forked.id,
    values: { counter: 101 },
    versions: { counter: 5 },
  });
  expect(await headId(saver, key)).toBe(next.id);
}

async function concurrent({ saver, key }: ConformanceEnv): Promise<void> {
  const [c0] = await putChain(saver, key, 1);
  const a = makeCheckpoint({ values: { counter: "a" }, versions: { counter: 2 } });
  const b = makeCheckpoint({ values: { counter: "b" }, versions: { counter: 2 } });
  const put = (checkpoint: typeof a) =>
    saver.put({ ...key, checkpoint, metadata: meta(0), parentId: c0!.id, changedChannels: ["counter"] });
  const results = await Promise.allSettled([put(a), put(b)]);
  const fulfilled = results.filter((result) => result.status === "fulfilled");
  expect(fulfilled).toHaveLength(1);
  const loser = results.find((result) => result.status === "rejected");
  await expectConflict(Promise.reject(loser?.reason));
  const winner = results[0]?.status === "fulfilled" ? a : b;
  const head = await saver.getTuple(key);
  expect(head?.checkpoint.id).toBe(winner.id);
  expect(head?.checkpoint.channelValues).toEqual({ counter: winner.channelValues.counter });
  expect(await listIds(saver, key)).toEqual([winner.id, c0!.id]);
}
