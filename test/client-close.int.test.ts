// A producer's client.close() ends what it has in flight and refuses what comes after, with a
// typed error and nothing done. Before, a runs.wait in flight went on polling Postgres until its
// timeout (an HTTP replica's graceful shutdown hung on a wait without one), or failed with pg's
// untyped "Cannot use a pool after calling end"; a client on the app's pool still started runs
// after its close, and a watch opened after it ended at once with nothing, as if none waited.
import { randomUUID } from "node:crypto";
import { createClient, type LayoverClient } from "@layover/runtime";
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { gate } from "./fixtures/held-node.ts";
import { createHarness, type Harness, parkedApproval } from "./support/harness.ts";
import { until } from "./support/until.ts";

let h: Harness;
beforeAll(async () => {
  h = await createHarness("client_close");
  await h.startWorker({ id: "w1" });
}, 60_000);
afterAll(async () => {
  await h?.close();
});

/** A client making its own connections, and one on the app's pool and Redis connection. */
const kinds: Array<[string, () => { client: LayoverClient; end: () => Promise<void> }]> = [
  [
    "its own connections",
    () => ({
      client: createClient({
        databaseUrl: h.databaseUrl,
        redisUrl: h.redisUrl,
        schema: h.schema,
        prefix: h.prefix,
      }),
      end: async () => {},
    }),
  ],
  [
    "the app's pool and connection",
    () => {
      const connection = new Redis(h.redisUrl, { maxRetriesPerRequest: null });
      const client = createClient({ pool: h.pool, connection, schema: h.schema, prefix: h.prefix });
      return { client, end: async () => void connection.disconnect() };
    },
  ],
];

describe.each(kinds)("client.close() on a client with %s", (_kind, make) => {
  it("ends a runs.wait in flight at once with ClientClosedError; the run goes on", async () => {
    const { client, end } = make();
    const tag = randomUUID();
    const { runId } = await client.runs.start({ graphId: "held-node", input: { gate: tag } });
    await until(() => gate(tag).reached, 10_000, "the run never reached its node");
    const waiting = client.runs.wait(runId, { timeoutMs: Number.POSITIVE_INFINITY });
    const settled = waiting.then(
      () => "resolved",
      (error: unknown) => error,
    );
    await new Promise((resolve) => setTimeout(resolve, 100));
    const closedAt = Date.now();
    await client.close();
    expect(await settled).toMatchObject({
      code: "CLIENT_CLOSED",
      message: expect.stringContaining("runs.wait"),
    });
    expect(Date.now() - closedAt).toBeLessThan(1_000);
    await end();
    gate(tag).open();
    expect(await h.client.runs.wait(runId)).toMatchObject({ status: "success" });
  });

  it("refuses every call after it with ClientClosedError, doing nothing", async () => {
    const { client, end } = make();
    const threadId = randomUUID();
    await client.close();
    await client.close(); // twice is fine
    await expect(
      client.runs.start({ graphId: "held-node", input: { gate: "never" }, threadId }),
    ).rejects.toMatchObject({ code: "CLIENT_CLOSED", message: expect.stringContaining("runs.start") });
    expect(await h.client.threads.runs(threadId)).toEqual([]);
    await expect(client.threads.get(threadId)).rejects.toMatchObject({ code: "CLIENT_CLOSED" });
    const read = async (items: AsyncIterable<unknown>) => {
      for await (const _ of items);
    };
    await expect(read(client.threads.history(threadId))).rejects.toMatchObject({ code: "CLIENT_CLOSED" });
    // Not an empty feed, which an inbox would show as "nothing waits".
    await expect(read(client.interrupts.watch())).rejects.toMatchObject({
      code: "CLIENT_CLOSED",
      message: expect.stringContaining("interrupts.watch"),
    });
    await end();
  });
});

it("fails a threads.history taken before close() and read after it with ClientClosedError, not pg's pool error", async () => {
  const client = createClient({
    databaseUrl: h.databaseUrl,
    redisUrl: h.redisUrl,
    schema: h.schema,
    prefix: h.prefix,
  });
  const { threadId } = await parkedApproval(h, "history");
  const taken = client.threads.history(threadId);
  await client.close();
  const read = async () => {
    for await (const _ of taken);
  };
  await expect(read()).rejects.toMatchObject({
    code: "CLIENT_CLOSED",
    message: expect.stringContaining("threads.history"),
  });
});

it("gives a stream or watch taken after close() the close() its type has, which does nothing", async () => {
  const client = createClient({
    databaseUrl: h.databaseUrl,
    redisUrl: h.redisUrl,
    schema: h.schema,
    prefix: h.prefix,
  });
  await client.close();
  for (const taken of [client.runs.stream(randomUUID()), client.interrupts.watch()]) {
    expect(() => taken.close()).not.toThrow();
    await expect(taken[Symbol.asyncIterator]().next()).rejects.toMatchObject({ code: "CLIENT_CLOSED" });
  }
});
