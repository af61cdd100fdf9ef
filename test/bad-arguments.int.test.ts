// What a careless caller passes the producer client (a cyclic value, a key Postgres cannot hold,
// a null where options go…): a typed error that names the argument, and nothing written.
import { type ClientOptions, createClient } from "@layover/runtime";
import { Redis } from "ioredis";
import pg from "pg";
import pino from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createHarness, type Harness, parkedApproval, producerRows } from "./support/harness.ts";

let h: Harness;

beforeAll(async () => {
  h = await createHarness("bad_arguments");
  await h.startWorker({ id: "worker-a" });
}, 60_000);
afterAll(async () => {
  await h?.close();
});

const rows = () => producerRows(h);

describe("values that cannot be stored", () => {
  it("refuses a cyclic input, answer or update by its path instead of overflowing the stack", async () => {
    const cyclic: Record<string, unknown> = { name: "loop" };
    cyclic.self = cyclic;
    const { threadId } = await parkedApproval(h, "cyclic");
    const before = await rows();
    for (const call of [
      () => h.client.runs.start({ graphId: "approval", input: { item: cyclic as never } }),
      () =>
        h.client.crons.create({
          graphId: "approval",
          schedule: "0 0 1 1 *",
          input: { item: cyclic as never },
        }),
      () => h.client.threads.resume(threadId, cyclic),
      () => h.client.threads.resume(threadId, "yes", { update: { item: cyclic as never } }),
    ])
      await expect(call()).rejects.toMatchObject({
        code: "INVALID_INPUT",
        message: expect.stringContaining("cycle"),
      });
    expect(await rows()).toEqual(before);
    expect((await h.client.threads.get(threadId)).status).toBe("interrupted");
  });
});

describe("thread ids, idempotency keys and names Postgres cannot hold", () => {
  const long = "k".repeat(100_000); // past what a Postgres index entry holds
  it("refuses a bad threadId or idempotencyKey of runs.start and crons.create, writing nothing", async () => {
    const before = await rows();
    const start = (args: Record<string, unknown>) =>
      h.client.runs.start({ graphId: "linear", input: {}, ...args });
    const cron = (args: Record<string, unknown>) =>
      h.client.crons.create({ graphId: "linear", schedule: "0 0 1 1 *", ...args });
    for (const [call, field] of [
      [() => start({ threadId: long }), "threadId"],
      [() => cron({ threadId: long }), "threadId"],
      // Half a surrogate pair: Postgres would store U+FFFD, so "t-\uD800" and "t-\uDC00" would be one thread.
      [() => start({ threadId: "t-\uD800" }), "threadId"],
      [() => cron({ threadId: "t-\uDC00" }), "threadId"],
      ...[42, { key: 1 }, null, "", "a\u0000b", "key-\uD83D", long].map(
        (idempotencyKey) => [() => start({ idempotencyKey }), "idempotencyKey"] as const,
      ),
    ] as const) {
      const refusal = await call().catch((error: unknown) => error);
      expect(refusal).toMatchObject({
        code: "INVALID_INPUT",
        message: expect.stringContaining(`${field} must be`),
      });
      expect((refusal as Error).message.length).toBeLessThan(400);
    }
    expect(await rows()).toEqual(before);
    // The longest taken, together: random text, which Postgres cannot compress into its index.
    const random = () =>
      Array.from({ length: 1024 }, () => String.fromCharCode(33 + Math.floor(Math.random() * 94))).join("");
    const threadId = random();
    const { runId } = await start({ threadId, idempotencyKey: random() });
    expect((await h.client.runs.wait(runId)).status).toBe("success");
  });

  it("refuses a bad idempotencyKey or resolvedBy of threads.resume: the thread still waits", async () => {
    const { threadId } = await parkedApproval(h, "keys");
    const before = await rows();
    for (const [field, value] of [
      ...[42, { key: 1 }, null, "", "a\u0000b", "key-\uD83E", long].map(
        (v) => ["idempotencyKey", v] as const,
      ),
      // A name as long as a key allows at most: a megabyte one was quoted in every later refusal.
      ...[42, { who: 1 }, "", "a\u0000b", "ann \uDE00", long].map((v) => ["resolvedBy", v] as const),
    ])
      await expect(h.client.threads.resume(threadId, "yes", { [field]: value })).rejects.toMatchObject({
        code: "INVALID_INPUT",
        message: expect.stringContaining(`${field} must be`),
      });
    expect(await rows()).toEqual(before);
    expect((await h.client.threads.get(threadId)).status).toBe("interrupted");
  });
});

describe("ids no row can have", () => {
  it("answers a thread id with a NUL character or half a surrogate pair as no thread, not a Postgres error or another thread", async () => {
    const { threadId: parked } = await parkedApproval(h, "lookalike", false, "t-\uFFFD");
    for (const bad of ["a\u0000b", "t-\uD800"]) await noThread(bad);
    expect((await h.client.threads.get(parked)).status).toBe("interrupted");
  });

  async function noThread(bad: string): Promise<void> {
    const before = await rows();
    for (const call of [
      () => h.client.threads.get(bad),
      () => h.client.threads.continue(bad),
      () => h.client.threads.delete(bad),
      () => h.client.threads.resume(bad, "yes"),
      () => h.client.threads.resume(bad, "yes", { idempotencyKey: "k" }),
    ])
      await expect(call()).rejects.toMatchObject({ code: "THREAD_NOT_FOUND" });
    expect(await h.client.threads.runs(bad)).toEqual([]);
    const history = [];
    for await (const checkpoint of h.client.threads.history(bad)) history.push(checkpoint);
    expect(history).toEqual([]);
    expect(await rows()).toEqual(before);
  }

  it("answers a graph id with a NUL character as no graph", async () => {
    const before = await rows();
    await expect(h.client.runs.start({ graphId: "a\u0000b", input: {} })).rejects.toMatchObject({
      code: "UNKNOWN_GRAPH",
    });
    await expect(h.client.crons.create({ graphId: "a\u0000b", schedule: "0 0 1 1 *" })).rejects.toMatchObject(
      { code: "UNKNOWN_GRAPH" },
    );
    expect(await rows()).toEqual(before);
  });

  it("refuses an olderThan before the earliest time Postgres holds (4714 BC), naming it", async () => {
    for (const olderThan of [new Date(-8.64e15), new Date(Date.UTC(-4713, 10, 24) - 1)]) {
      await expect(h.client.interrupts.list({ olderThan })).rejects.toMatchObject({
        code: "INVALID_INPUT",
        message: expect.stringContaining("olderThan must be a valid Date from 4714 BC on"),
      });
      await expect(h.client.threads.prune({ olderThan })).rejects.toMatchObject({
        code: "INVALID_INPUT",
        message: expect.stringContaining("olderThan must be a valid Date from 4714 BC on"),
      });
    }
    expect(await h.client.interrupts.list({ olderThan: new Date(Date.UTC(-4713, 10, 24)) })).toMatchObject({
      interrupts: [],
    });
  });

  it("refuses an interrupts.list filter or a tampered cursor Postgres would fail on, naming it", async () => {
    const cursor = (parts: unknown[]) => Buffer.from(JSON.stringify(parts)).toString("base64url");
    const id = "00000000-0000-4000-8000-000000000000";
    for (const [query, field] of [
      [{ graphId: "a\u0000b" }, "graphId"],
      [{ threadId: "a\u0000b" }, "threadId"],
      [{ threadId: 42 }, "threadId"],
      [{ cursor: cursor(["2024-13-45 99:99:99+00", "t", id]) }, "cursor"],
      [{ cursor: cursor(["2024-02-30 00:00:00+00", "t", id]) }, "cursor"],
      [{ cursor: cursor(["2024-01-01 00:00:00+00", "a\u0000", id]) }, "cursor"],
    ] as const)
      await expect(
        h.client.interrupts.list(query as Parameters<typeof h.client.interrupts.list>[0]),
      ).rejects.toMatchObject({ code: "INVALID_INPUT", message: expect.stringContaining(field) });
    // A cursor as a page returns it still reads the next page.
    expect(
      await h.client.interrupts.list({ cursor: cursor(["2024-01-01 00:00:00.123456+00", "t", id]) }),
    ).toMatchObject({
      interrupts: expect.any(Array),
    });
  });
});

describe("limits and options of the wrong kind", () => {
  it("refuses a threads.history limit that is not a whole number above 0, as interrupts.list does", async () => {
    const { threadId } = await parkedApproval(h, "history");
    for (const limit of [-1, 0, Number.NaN, 1.5, "2"]) {
      const read = async () => {
        for await (const _ of h.client.threads.history(threadId, { limit: limit as number }));
      };
      await expect(read()).rejects.toMatchObject({
        code: "INVALID_INPUT",
        message: expect.stringContaining("limit"),
      });
    }
    const history = [];
    for await (const checkpoint of h.client.threads.history(threadId, { limit: 1 })) history.push(checkpoint);
    expect(history).toHaveLength(1);
  });

  it("says a query string's value is a string, not the number or Date it reads as", async () => {
    const read = async () => {
      for await (const _ of h.client.threads.history("t", { limit: "10" as unknown as number }));
    };
    await expect(read()).rejects.toMatchObject({ message: expect.stringContaining('got the string "10"') });
    await expect(h.client.interrupts.list({ limit: "10" as unknown as number })).rejects.toMatchObject({
      code: "INVALID_INPUT",
      message: expect.stringContaining('got the string "10"'),
    });
    await expect(
      h.client.interrupts.list({ olderThan: "2020-01-01" as unknown as Date }),
    ).rejects.toMatchObject({
      code: "INVALID_INPUT",
      message: expect.stringContaining('got the string "2020-01-01"'),
    });
  });

  it("refuses a crons.list filter it would ignore, and a crons.delete of something not an id", async () => {
    await expect(h.client.crons.list({ graphId: "approval" } as never)).rejects.toMatchObject({
      code: "INVALID_INPUT",
      message: expect.stringContaining("crons.list takes no arguments"),
    });
    for (const id of [{ id: "c" }, 5, undefined, ""])
      await expect(h.client.crons.delete(id as string)).rejects.toMatchObject({
        code: "INVALID_INPUT",
        message: expect.stringContaining("crons.delete takes a cron's id"),
      });
    expect(await h.client.crons.list()).toEqual(expect.any(Array));
  });

  it("refuses options or a config that is not an object (null, a string), instead of a TypeError or ignoring it", async () => {
    const { threadId, runId } = await parkedApproval(h, "options");
    const before = await rows();
    const c = h.client;
    const history = async (options: unknown) => {
      for await (const _ of c.threads.history(threadId, options as never));
    };
    for (const [call, name] of [
      [() => c.runs.start(null as never), "runs.start"],
      [() => c.runs.start("linear" as never), "runs.start"],
      [() => c.runs.wait(runId, null as never), "runs.wait"],
      [() => c.threads.resume(threadId, "yes", null as never), "threads.resume"],
      [() => c.threads.resume(threadId, "yes", "key" as never), "threads.resume"],
      [() => history(null), "threads.history"],
      [() => c.interrupts.list(null as never), "interrupts.list"],
      [() => c.reconcile(null as never), "reconcile"],
      [() => c.crons.create(null as never), "crons.create"],
      ...[null, "x", [1]].flatMap((config) => [
        [() => c.runs.start({ graphId: "linear", input: {}, config: config as never }), "config"] as const,
        [
          () => c.crons.create({ graphId: "linear", schedule: "0 0 1 1 *", config: config as never }),
          "config",
        ] as const,
      ]),
    ] as const)
      await expect(call()).rejects.toMatchObject({
        code: "INVALID_INPUT",
        message: expect.stringContaining(name),
      });
    expect(await rows()).toEqual(before);
    expect((await c.threads.get(threadId)).status).toBe("interrupted");
  });
});

it("refuses a reconcile minAgeMs too large for a Postgres timestamp, not with a DatabaseError", async () => {
  await expect(h.client.reconcile({ minAgeMs: 1e20 })).rejects.toMatchObject({
    code: "INVALID_INPUT",
    message: expect.stringContaining("minAgeMs"),
  });
  expect(await h.client.reconcile({ minAgeMs: 100 * 365 * 24 * 3600 * 1000 })).toEqual([]);
});

describe("createClient's options", () => {
  /** Whether a Redis connection named `name` is still open. */
  const open = async (name: string) => {
    await new Promise((resolve) => setTimeout(resolve, 200));
    const redis = new Redis(h.redisUrl);
    const list = (await redis.client("LIST")) as string;
    redis.disconnect();
    return list.split("\n").some((line) => line.includes(` name=${name} `));
  };
  const named = (name: string) => {
    const url = new URL(h.redisUrl);
    url.searchParams.set("connectionName", name);
    return url.toString();
  };

  it("refuses a bad schema, identity, prefix, timeout, lane count or unknown option with InvalidConfigError, leaving no connection open", async () => {
    for (const [i, [bad, field]] of (
      [
        [{ schema: "Bad-Schema" }, "schema"],
        [{ identity: "a\u0000b" }, "identity"],
        [{ identity: 42 }, "identity"],
        [{ prefix: "" }, "prefix"],
        [{ prefix: "layover eu" }, "printable ASCII characters without spaces"],
        [{ timeouts: { queryTimeoutMs: -1 } }, "queryTimeoutMs"],
        [{ timeouts: { statementTimeoutMs: Number.NaN } }, "statementTimeoutMs"],
        [{ postgresLanes: -1 }, "postgresLanes"],
        [{ postgresLanes: 1.5 }, "postgresLanes"],
        [{ postgresLanes: "2" }, "postgresLanes"],
        // A misspelt URL went to the default: a local Postgres, another deployment's perhaps.
        [{ databaseURL: "postgres://db.internal/app" }, '"databaseURL" is databaseUrl here'],
        [{ redisURL: "redis://cache.internal" }, '"redisURL" is redisUrl here'],
        [{ maxBacklog: 5 }, 'takes no "maxBacklog"'],
      ] as Array<[Record<string, unknown>, string]>
    ).entries()) {
      const name = `bad-options-${i}-${Date.now()}`;
      const options = {
        databaseUrl: h.databaseUrl,
        redisUrl: named(name),
        logger: pino({ level: "silent" }),
        ...bad,
      };
      expect(() => createClient(options as ClientOptions)).toThrow(
        expect.objectContaining({
          code: "INVALID_CONFIG",
          message: expect.stringContaining(field),
        }),
      );
      expect(await open(name)).toBe(false);
    }
  });

  it("refuses a storeIndex it could not embed with before it opens a connection, leaving none open", async () => {
    const name = `bad-store-index-${Date.now()}`;
    const options = {
      databaseUrl: h.databaseUrl,
      redisUrl: named(name),
      logger: pino({ level: "silent" }),
      storeIndex: { dims: 0, embeddings: { embedDocuments: async () => [], embedQuery: async () => [] } },
    };
    expect(() => createClient(options as ClientOptions)).toThrow(
      expect.objectContaining({ message: expect.stringContaining("index.dims") }),
    );
    expect(await open(name)).toBe(false);
  });

  it("refuses a pool without a connection, or a connection without a pool: it would close only one", async () => {
    const name = `pairs-${Date.now()}`;
    const pool = new pg.Pool({ connectionString: h.databaseUrl });
    const connection = new Redis(named(name));
    try {
      expect(() => createClient({ pool } as unknown as ClientOptions)).toThrow(
        expect.objectContaining({ code: "INVALID_CONFIG", message: expect.stringContaining("connection") }),
      );
      expect(() =>
        createClient({ connection, redisUrl: named(`${name}-own`) } as unknown as ClientOptions),
      ).toThrow(
        expect.objectContaining({ code: "INVALID_CONFIG", message: expect.stringContaining("pool") }),
      );
      expect(await open(`${name}-own`)).toBe(false);
      expect(await open(name)).toBe(true); // the caller's, left as it was
    } finally {
      connection.disconnect();
      await pool.end();
    }
  });
});
