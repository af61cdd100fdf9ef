// The readiness probe's Redis check asks for a write: a Redis that answers a PING but refuses
// writes (out of memory under noeviction, a read-only replica, a user not allowed to write) had
// a green /readyz while every enqueue failed. Here a real Redis refuses this connection's
// writes through an ACL user of the test's own.
import { randomUUID } from "node:crypto";
import { getRedis } from "@layover/testing";
import { Redis } from "ioredis";
import { afterAll, expect, it } from "vitest";
import { redisProbe } from "./status-server.ts";

const user = `layover-probe-test-${randomUUID()}`;
const admin = new Redis(await getRedis(), { lazyConnect: true });
afterAll(async () => {
  await admin.call("ACL", "DELUSER", user);
  admin.disconnect();
});

it("fails when Redis answers a PING but refuses writes, saying what Redis said", async () => {
  await admin.call("ACL", "SETUSER", user, "on", "nopass", "~*", "&*", "+@all", "-set");
  const url = new URL(await getRedis());
  const refusing = new Redis({
    host: url.hostname,
    port: Number(url.port || 6379),
    username: user,
    password: "x",
  });
  const writing = new Redis(await getRedis());
  try {
    expect(await refusing.ping()).toBe("PONG");
    // Both connected before the probes: a connection still connecting fails the probe by itself.
    expect(await writing.ping()).toBe("PONG");
    const key = `layover-probe-test:readyz:${randomUUID()}`;
    await expect(redisProbe([refusing], key)()).rejects.toThrow(/NOPERM/);
    await expect(redisProbe([writing], key)()).resolves.toBeUndefined();
    expect(await writing.pttl(key)).toBeGreaterThan(0); // the probe's key expires
  } finally {
    refusing.disconnect();
    writing.disconnect();
  }
});
