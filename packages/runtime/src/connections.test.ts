import { describe, expect, it } from "vitest";
import { isRedisConnectionError } from "./connections.ts";

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
