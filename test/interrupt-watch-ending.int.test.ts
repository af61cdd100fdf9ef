// client.interrupts.watch ended every way an app ends one (close, break, its signal) lets go of
// what it held: an app that restarts its watch under one long-lived signal (its shutdown's) must
// not pile a listener onto that signal per watch. The client's close() ends its watches, as it
// ends its streams: a watch failed with pg's "Cannot use a pool after calling end", or, on the
// app's own pool, went on polling it for ever. In-process worker on real Postgres and Redis.
import { getEventListeners } from "node:events";
import { createClient, type LayoverClient } from "@layover/runtime";
import { Redis } from "ioredis";
import pg from "pg";
import pino from "pino";
import { afterAll, beforeAll, expect, it } from "vitest";
import { anotherClient, createHarness, type Harness, parkedApproval } from "./support/harness.ts";

let h: Harness;
let stopWorker: () => Promise<void>;
beforeAll(async () => {
  h = await createHarness("interrupt_watch_ending");
  stopWorker = await h.startWorker();
  await parkedApproval(h, "ending");
}, 60_000);
afterAll(async () => {
  await stopWorker?.();
  await h?.close();
});

it("leaves no listener on the app's signal once a watch ends, however it ended", async () => {
  const shutdown = new AbortController();
  for (let i = 0; i < 4; i++) {
    // Closed before it read anything.
    h.client.interrupts.watch({ signal: shutdown.signal }).close();
    // Closed after a delivery, the app not asking for the next one.
    const closed = h.client.interrupts.watch({ signal: shutdown.signal });
    expect((await closed.next()).done).toBe(false);
    closed.close();
    expect(await closed.next()).toEqual({ done: true, value: undefined });
    // Left by a break.
    for await (const _ of h.client.interrupts.watch({ signal: shutdown.signal })) break;
  }
  expect(getEventListeners(shutdown.signal, "abort")).toHaveLength(0);
});

/** How a watch of `client` waiting for its next interrupt ends once the client closes. */
async function afterClose(client: LayoverClient): Promise<unknown> {
  const watch = client.interrupts.watch({ from: "now", pollMs: 100 });
  const next = watch.next();
  await new Promise((resolve) => setTimeout(resolve, 300)); // it polls
  await client.close();
  const outcome = await Promise.race([
    next.then(
      (result) => result,
      (error: unknown) => String(error),
    ),
    new Promise((resolve) => setTimeout(() => resolve("still waiting 3 s after close()"), 3_000)),
  ]);
  watch.close();
  return outcome;
}

it("the client's close() ends its open watches", async () => {
  expect(await afterClose(anotherClient(h))).toEqual({ done: true, value: undefined });
});

it("the client's close() ends its open watches on the app's own pool, which stays the app's", async () => {
  const pool = new pg.Pool({ connectionString: h.databaseUrl, max: 3 });
  const connection = new Redis(h.redisUrl, { maxRetriesPerRequest: null });
  try {
    const client = createClient({
      pool,
      connection,
      schema: h.schema,
      prefix: h.prefix,
      logger: pino({ level: "silent" }),
    });
    expect(await afterClose(client)).toEqual({ done: true, value: undefined });
    expect((await pool.query("SELECT 1 AS one")).rows).toEqual([{ one: 1 }]);
  } finally {
    await pool.end();
    connection.disconnect();
  }
});
