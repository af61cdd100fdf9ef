import { describe, expect, it } from "vitest";
import type { CheckpointMetadata, PendingSend } from "../types.ts";
import { type ConformanceEnv, collect, meta, putChain, putCheckpoint, type UseEnv } from "./helpers.ts";
import { expectRoundTrip, type RoundTripCase, roundTripCases } from "./round-trip-cases.ts";

export function describeIsolation(use: UseEnv): void {
  describe("values are copied on the way in and out", () => {
    it("mutating what was passed to put changes nothing stored", () => mutateAfterPut(use()));
    it("mutating what was passed to putWrites changes nothing stored", () => mutateAfterPutWrites(use()));
    it("mutating what was read back changes nothing stored", () => mutateAfterRead(use()));
  });
  describe("values round trip through the saver", () => {
    for (const testCase of roundTripCases) {
      it(`round trips ${testCase.name}`, () => roundTrip(use(), testCase));
    }
  });
}

async function mutateAfterPut({ saver, key }: ConformanceEnv): Promise<void> {
  const state = { items: ["a"], nested: { n: 1 } };
  const metadata: CheckpointMetadata = meta(0, "loop", { tags: ["t1"] });
  const pendingSends: PendingSend[] = [{ node: "worker", arg: { job: 1 } }];
  const checkpoint = await putCheckpoint(saver, key, {
    parentId: null,
    values: { state },
    pendingSends,
    metadata,
  });
  state.items.push("b");
  state.nested.n = 2;
  checkpoint.channelValues.other = "added";
  checkpoint.channelVersions.state = 9;
  checkpoint.updatedChannels.push("ghost");
  (pendingSends[0]!.arg as { job: number }).job = 2;
  pendingSends.push({ node: "ghost", arg: {} });
  (metadata.tags as string[]).push("t2");
  metadata.step = 7;

  const tuple = await saver.getTuple(key);
  expect(tuple?.checkpoint.channelValues).toEqual({ state: { items: ["a"], nested: { n: 1 } } });
  expect(tuple?.checkpoint.channelVersions).toEqual({ state: 1 });
  expect(tuple?.checkpoint.updatedChannels).toEqual(["state"]);
  expect(tuple?.checkpoint.pendingSends).toEqual([{ node: "worker", arg: { job: 1 } }]);
  expect(tuple?.metadata).toEqual(meta(0, "loop", { tags: ["t1"] }));
}

async function mutateAfterPutWrites({ saver, key }: ConformanceEnv): Promise<void> {
  const [c0] = await putChain(saver, key, 1);
  const value = { list: [1], inner: { ok: true } };
  const writes: [string, unknown][] = [["channel", value]];
  await saver.putWrites({ ...key, checkpointId: c0!.id, taskId: "task-1", writes });
  value.list.push(2);
  value.inner.ok = false;
  writes.push(["ghost", 1]);
  const tuple = await saver.getTuple(key);
  expect(tuple?.pendingWrites).toEqual([
    { taskId: "task-1", channel: "channel", idx: 0, value: { list: [1], inner: { ok: true } } },
  ]);
}

async function mutateAfterRead({ saver, key }: ConformanceEnv): Promise<void> {
  const c0 = await putCheckpoint(saver, key, {
    parentId: null,
    values: { state: { items: ["a"] } },
    pendingSends: [{ node: "worker", arg: { job: 1 } }],
    metadata: meta(-1, "input", { tags: ["t1"] }),
  });
  await saver.putWrites({ ...key, checkpointId: c0.id, taskId: "t", writes: [["state", { items: ["w"] }]] });
  const first = await saver.getTuple(key);
  const state = first?.checkpoint.channelValues.state as { items: string[] };
  state.items.push("mutated");
  first!.checkpoint.channelVersions.state = 42;
  (first!.checkpoint.pendingSends[0]!.arg as { job: number }).job = 2;
  (first!.metadata.tags as string[]).push("t2");
  (first!.pendingWrites[0]!.value as { items: string[] }).items.push("mutated");
  first!.pendingWrites.push({ taskId: "ghost", channel: "x", idx: 0, value: 1 });
  const [listed] = await collect(saver.list(key));
  (listed!.checkpoint.channelValues.state as { items: string[] }).items.push("from-list");

  const again = await saver.getTuple(key);
  expect(again?.checkpoint.channelValues).toEqual({ state: { items: ["a"] } });
  expect(again?.checkpoint.channelVersions).toEqual({ state: 1 });
  expect(again?.checkpoint.pendingSends).toEqual([{ node: "worker", arg: { job: 1 } }]);
  expect(again?.metadata).toEqual(meta(-1, "input", { tags: ["t1"] }));
  expect(again?.pendingWrites).toEqual([{ taskId: "t", channel: "state", idx: 0, value: { items: ["w"] } }]);
}

/** The value goes through a channel, a pending write and a pending send. */
async function roundTrip({ saver, key }: ConformanceEnv, testCase: RoundTripCase): Promise<void> {
  const checkpoint = await putCheckpoint(saver, key, {
    parentId: null,
    values: { value: testCase.make() },
    pendingSends: [{ node: "worker", arg: testCase.make() }],
  });
  await saver.putWrites({
    ...key,
    checkpointId: checkpoint.id,
    taskId: "t",
    writes: [["value", testCase.make()]],
  });
  const tuple = await saver.getTuple({ ...key, checkpointId: checkpoint.id });
  expect(tuple).toBeDefined();
  expect(Object.keys(tuple?.checkpoint.channelValues ?? {})).toEqual(["value"]);
  expectRoundTrip(testCase, tuple?.checkpoint.channelValues.value);
  expectRoundTrip(testCase, tuple?.checkpoint.pendingSends[0]?.arg);
  expect(tuple?.pendingWrites).toHaveLength(1);
  expectRoundTrip(testCase, tuple?.pendingWrites[0]?.value);
}
