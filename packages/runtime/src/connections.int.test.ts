// A connection through a proxy that loses the bytes of a moment and then passes them again: the
// connection has a gap, and pairs Redis's answers with the wrong commands unless it is dropped.
import { getRedis, tcpProxy } from "@layover/testing";
import pino from "pino";
import { expect, it } from "vitest";
import { connectRedis, requireRedis } from "./connections.ts";

it("drops a connection that pairs answers with the wrong commands: each answers its own again", async () => {
  const proxy = await tcpProxy(await getRedis());
  const redis = connectRedis(proxy.url, pino({ level: "silent" }), "gap");
  try {
    expect(await redis.echo("before")).toBe("before");
    proxy.freeze();
    // Its answer goes to the first command after the gap, and so on: no client can tell until
    // an answer cannot be the one asked for (a PING's).
    redis.echo("lost").catch(() => undefined);
    await new Promise((resolve) => setTimeout(resolve, 100));
    proxy.restore();
    // Commands keep coming, as on a busy worker's connection: no pause for a timeout to notice.
    const deadline = Date.now() + 15_000;
    let own = 0;
    for (let i = 0; own < 3; i++) {
      if (Date.now() > deadline)
        throw new Error("15 s after the gap, answers still go to the wrong commands");
      own = (await redis.echo(`n${i}`)) === `n${i}` ? own + 1 : 0;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    expect(own).toBe(3);
  } finally {
    redis.disconnect();
    await proxy.close();
  }
}, 30_000);

it("refuses a REDIS_URL whose database the server does not have, where BullMQ's keys went to database 0", async () => {
  const url = new URL(await getRedis());
  url.pathname = "/99"; // a Redis has 16 unless told otherwise
  const redis = connectRedis(url.toString(), pino({ level: "silent" }), "db-99");
  try {
    await expect(requireRedis(redis, 3_000)).rejects.toMatchObject({
      code: "INVALID_CONFIG",
      message: expect.stringContaining("REDIS_URL names database 99"),
    });
  } finally {
    redis.disconnect();
  }
  url.pathname = "/3";
  const three = connectRedis(url.toString(), pino({ level: "silent" }), "db-3");
  try {
    await requireRedis(three, 3_000);
    await three.set("layover-db-check", "3", "EX", 5);
    expect(await three.get("layover-db-check")).toBe("3");
    expect((await three.client("INFO")) as string).toContain("db=3");
  } finally {
    three.disconnect();
  }
});
