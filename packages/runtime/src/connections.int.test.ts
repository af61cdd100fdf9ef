// A connection through a proxy that loses the bytes of a moment and then passes them again: the
// connection has a gap, and pairs Redis's answers with the wrong commands unless it is dropped.
import { getRedis, tcpProxy } from "@layover/testing";
import pino from "pino";
import { expect, it } from "vitest";
import { connectRedis } from "./connections.ts";

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
