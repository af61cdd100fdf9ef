import { Redis } from "ioredis";
import pino from "pino";
import { describe, expect, it } from "vitest";
import {
  connectRedis,
  evictionRisk,
  isRedisConnectionError,
  REDIS_RECONNECT_MAX_MS,
  REDIS_SOCKET_TIMEOUT_MS,
} from "./connections.ts";

describe("isRedisConnectionError", () => {
  it("knows what ioredis says of an unreachable or silent Redis", () => {
    const said = [
      Object.assign(new Error("connect ECONNREFUSED 127.0.0.1:6379"), { code: "ECONNREFUSED" }),
      new Error("Connection is closed."),
      // A connection dropped because no answer came within its socketTimeout (connectRedis).
      new Error("Socket timeout. Expecting data, but didn't receive any in 15000ms."),
    ];
    expect(said.map(isRedisConnectionError)).toEqual([true, true, true]);
  });

  it("leaves other errors to be logged", () => {
    expect(isRedisConnectionError(new Error("Missing lock for job 1. moveToFinished"))).toBe(false);
    expect(isRedisConnectionError("Connection is closed.")).toBe(false);
  });
});

describe("connectRedis", () => {
  it("tries to reconnect at least every 1.2 s, however long Redis was gone: a process notices it back soon", () => {
    // Nothing listens on port 1: the connection only retries, and is dropped at once.
    const redis = connectRedis("redis://127.0.0.1:1", pino({ level: "silent" }), "test");
    redis.disconnect();
    const { retryStrategy } = redis.options;
    const pauses = Array.from({ length: 30 }, (_, i) => Number(retryStrategy?.(i + 1)));
    expect(Math.max(...pauses)).toBeLessThanOrEqual(REDIS_RECONNECT_MAX_MS + 200);
    expect(pauses[0]).toBeLessThan(300); // the first attempt at once, as ioredis's own
  });

  it("duplicates a connection with its options: ours, or those a producer gave", () => {
    const logger = pino({ level: "silent" });
    const ours = connectRedis("redis://127.0.0.1:1", logger, "test");
    const given = new Redis("redis://127.0.0.1:1", { lazyConnect: true, socketTimeout: 3_000 });
    const duplicates = [connectRedis(ours, logger, "dup"), connectRedis(given, logger, "dup")];
    for (const redis of [ours, given, ...duplicates]) redis.disconnect();
    expect(duplicates.map((d) => d.options.socketTimeout)).toEqual([REDIS_SOCKET_TIMEOUT_MS, 3_000]);
    expect(duplicates[0]?.options.retryStrategy).toBe(ours.options.retryStrategy);
    expect(duplicates.map((d) => d.options.maxRetriesPerRequest)).toEqual([null, null]);
  });
});

describe("evictionRisk: what a service says of a Redis that may delete BullMQ's keys", () => {
  const info = (policy: string, maxmemory: number) =>
    `# Memory\r\nused_memory:1048576\r\nmaxmemory:${maxmemory}\r\nmaxmemory_human:0B\r\nmaxmemory_policy:${policy}\r\n`;

  it("says nothing of noeviction, or of a Redis that does not tell", () => {
    expect(evictionRisk(info("noeviction", 1_000_000))).toBeUndefined();
    expect(evictionRisk("# Memory\r\nused_memory:1048576\r\n")).toBeUndefined();
  });

  it("errs on a policy that evicts at a maxmemory set, warns while none is set, naming the fix", () => {
    expect(evictionRisk(info("allkeys-lru", 104_857_600))).toEqual({
      level: "error",
      message: expect.stringMatching(
        /allkeys-lru with maxmemory 104857600 bytes.*set maxmemory-policy noeviction/,
      ),
    });
    expect(evictionRisk(info("volatile-lru", 0))).toEqual({
      level: "warn",
      message: expect.stringMatching(/volatile-lru: once a maxmemory is set.*noeviction/),
    });
  });
});
