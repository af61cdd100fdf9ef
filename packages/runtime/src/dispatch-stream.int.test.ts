// A run's stream as the dispatcher appends to it (real Redis): in order, kept for an hour, and —
// given a job's lock — only while that job still holds it, as BullMQ records the lock.
import { randomUUID } from "node:crypto";
import { deleteRedisPrefix, getRedis, uniqueRedisPrefix } from "@layover/testing";
import { Redis } from "ioredis";
import { afterAll, beforeAll, expect, it } from "vitest";
import { createDispatcher, type Dispatcher } from "./dispatch.ts";
import { RUN_STREAM_TTL_MS, runStreamKey } from "./run-stream.ts";

const prefix = uniqueRedisPrefix("dispatch_stream");
let url: string;
let redis: Redis;
let dispatcher: Dispatcher;

beforeAll(async () => {
  url = await getRedis();
  redis = new Redis(url);
  dispatcher = createDispatcher(redis, prefix);
});
afterAll(async () => {
  await dispatcher?.close();
  await deleteRedisPrefix(url, prefix);
  redis?.disconnect();
});

const entries = (...events: string[]) => events.map((event, i) => ({ event, data: `{"i":${i}}` }));
const events = async (runId: string) =>
  (await redis.xrange(runStreamKey(prefix, runId), "-", "+")).map(([, fields]) => fields[1]);

it("appends a flush's entries in order, in one command, and keeps the stream an hour", async () => {
  const runId = randomUUID();
  expect(await dispatcher.appendStream(runId, entries("values", "updates", "custom"))).toBe(true);
  expect(await dispatcher.appendStream(runId, entries("updates"))).toBe(true);
  expect(await events(runId)).toEqual(["values", "updates", "custom", "updates"]);
  const ttl = await redis.pttl(runStreamKey(prefix, runId));
  expect(ttl).toBeGreaterThan(RUN_STREAM_TTL_MS - 60_000);
});

it("appends under a job's lock only while the lock holds the job's token", async () => {
  const runId = randomUUID();
  const key = `${prefix}:steps:job-${runId}:lock`;
  await redis.set(key, "token-a", "PX", 10_000);
  expect(await dispatcher.appendStream(runId, entries("updates"), { key, token: "token-a" })).toBe(true);
  // Taken over by another worker, then expired: the first job appends nothing either way.
  await redis.set(key, "token-b", "PX", 10_000);
  expect(await dispatcher.appendStream(runId, entries("custom"), { key, token: "token-a" })).toBe(false);
  await redis.del(key);
  expect(await dispatcher.appendStream(runId, entries("custom"), { key, token: "token-a" })).toBe(false);
  expect(await events(runId)).toEqual(["updates"]);
});
