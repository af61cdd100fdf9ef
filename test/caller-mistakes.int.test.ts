// Calls a caller gets subtly wrong, each once accepted with a quiet wrong result: a start with
// no input, a key one kind of call used given to the other, a retried start that names no
// thread, options threads.continue did not take. Each is now done as asked or refused with a
// typed error, with nothing written.
import { randomUUID } from "node:crypto";
import { isInterruptIdShaped } from "@layover/graph";
import { createClient, createDb, cronsApi, registerGraph } from "@layover/runtime";
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createHarness, type Harness, parkedApproval, producerRows } from "./support/harness.ts";

let h: Harness;

beforeAll(async () => {
  h = await createHarness("caller_mistakes");
  await h.startWorker({ id: "worker-a" });
}, 60_000);
afterAll(async () => {
  await h?.close();
});

const rows = () => producerRows(h);

describe("a start with no input", () => {
  it("is refused for a StateGraph, an entrypoint and a cron, null or undefined alike, writing nothing", async () => {
    const before = await rows();
    for (const graphId of ["linear", "running-total"])
      for (const input of [null, undefined]) {
        for (const call of [
          () => h.client.runs.start({ graphId, input }),
          () => h.client.crons.create({ graphId, schedule: "0 0 1 1 *", input }),
        ]) {
          if (input === undefined && call.toString().includes("crons")) continue; // a cron's default input is {}
          await expect(call()).rejects.toMatchObject({
            code: "INVALID_INPUT",
            message: expect.stringContaining(`is ${String(input)}: a run starts from an input`),
          });
        }
      }
    expect(await rows()).toEqual(before);
  });

  it("is refused by crons.create of the tables' own API (the scheduler's side), which once stored it", async () => {
    const redis = new Redis(h.redisUrl, { maxRetriesPerRequest: null });
    try {
      const crons = cronsApi(createDb(h.pool, h.schema), redis, h.prefix);
      const before = await rows();
      await expect(
        crons.create({ graphId: "running-total", schedule: "0 0 1 1 *", input: null }),
      ).rejects.toMatchObject({
        code: "INVALID_INPUT",
        message: expect.stringContaining("A cron's input is null"),
      });
      expect(await rows()).toEqual(before);
      await crons.close();
    } finally {
      redis.disconnect();
    }
  });

  it("on a thread that has run is refused too, not taken for a continue that finishes at once", async () => {
    const { runId, threadId } = await h.client.runs.start({ graphId: "running-total", input: 5 });
    expect((await h.client.runs.wait(runId)).status).toBe("success");
    const before = await rows();
    await expect(
      h.client.runs.start({ graphId: "running-total", input: null, threadId }),
    ).rejects.toMatchObject({ code: "INVALID_INPUT", message: expect.stringContaining("threads.continue") });
    expect(await rows()).toEqual(before);
  });
});

describe("idempotency keys", () => {
  it("a resume given the key of the thread's start is refused: it does not pass for an answer", async () => {
    const threadId = `shared-key-${Date.now()}`;
    const started = await h.client.runs.start({
      graphId: "approval",
      input: { item: "x" },
      threadId,
      idempotencyKey: "req-1",
    });
    expect((await h.client.runs.wait(started.runId)).status).toBe("interrupted");
    const before = await rows();
    await expect(h.client.threads.resume(threadId, "yes", { idempotencyKey: "req-1" })).rejects.toMatchObject(
      {
        code: "IDEMPOTENCY_KEY_REUSED",
        differs: ["kind"],
        message: expect.stringContaining(`is the key of thread "${threadId}"'s start (run ${started.runId})`),
      },
    );
    expect(await rows()).toEqual(before);
    expect((await h.client.threads.get(threadId)).status).toBe("interrupted");
    // A key of its own answers it; that key given to a start is refused in turn.
    const { runId } = await h.client.threads.resume(threadId, "yes", { idempotencyKey: "req-2" });
    expect((await h.client.runs.wait(runId)).status).toBe("success");
    await expect(
      h.client.runs.start({ graphId: "approval", input: { item: "y" }, threadId, idempotencyKey: "req-2" }),
    ).rejects.toMatchObject({
      code: "IDEMPOTENCY_KEY_REUSED",
      message: expect.stringContaining("'s resume"),
    });
    expect(await h.client.threads.runs(threadId)).toHaveLength(2);
  });

  it("a start retried with its key and no threadId returns the first call's run on the same thread", async () => {
    const key = `no-thread-${Date.now()}`;
    const before = await rows();
    const first = await h.client.runs.start({ graphId: "linear", input: { count: 1 }, idempotencyKey: key });
    const again = await h.client.runs.start({ graphId: "linear", input: { count: 1 }, idempotencyKey: key });
    expect(again).toEqual(first);
    // A UUID, but not shaped as an interrupt id (an object keyed by those answers interrupts).
    expect(first.threadId).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-8[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(isInterruptIdShaped(first.threadId)).toBe(false);
    expect((await h.client.runs.wait(first.runId)).values).toMatchObject({ count: 11 });
    expect(await rows()).toEqual({ ...before, threads: before.threads + 1, runs: before.runs + 1 });
    // Another graph's start with the same key is its own.
    const other = await h.client.runs.start({
      graphId: "approval",
      input: { item: "z" },
      idempotencyKey: key,
    });
    expect(other.threadId).not.toBe(first.threadId);
  });
});

describe("threads.continue's options", () => {
  it("takes a resume's run options (context here) for the continued run", async () => {
    const { runId, threadId } = await h.client.runs.start({
      graphId: "contextual",
      input: {},
      config: { interruptBefore: ["greet"], context: { userId: "ann" } },
    });
    expect((await h.client.runs.wait(runId)).status).toBe("interrupted");
    const continued = await h.client.threads.continue(threadId, {
      context: { userId: "bob" },
      resolvedBy: undefined, // a key left undefined asks for nothing
    } as never);
    const result = await h.client.runs.wait(continued.runId);
    expect(result.values).toMatchObject({ seen: ["start for bob"] });
  });

  it("refuses an option it does not take, naming it, instead of dropping it (threads.resume too)", async () => {
    const { runId, threadId } = await h.client.runs.start({ graphId: "gated", input: {} });
    expect((await h.client.runs.wait(runId)).status).toBe("interrupted");
    const parked = await parkedApproval(h, "options");
    const before = await rows();
    const refusedNaming = (option: string) => ({
      code: "INVALID_INPUT",
      message: expect.stringContaining(`"${option}"`),
    });
    for (const option of ["idempotency_key", "resolvedBy", "streamMod"])
      await expect(h.client.threads.continue(threadId, { [option]: "x" } as never)).rejects.toMatchObject(
        refusedNaming(option),
      );
    for (const option of ["asNode", "idempotency_key"])
      await expect(
        h.client.threads.resume(parked.threadId, "yes", { [option]: "x" } as never),
      ).rejects.toMatchObject(refusedNaming(option));
    expect(await rows()).toEqual(before);
    expect((await h.client.threads.get(threadId)).status).toBe("interrupted");
    expect((await h.client.threads.get(parked.threadId)).status).toBe("interrupted");
  });

  it("refuses context or durability while the graph's workers predate them: an older worker would drop the start's context too", async () => {
    const graphId = `old-gated-${randomUUID()}`;
    await registerGraph(createDb(h.pool, h.schema), { id: graphId, input_schema: {}, options: {} }, 90_000);
    const threadId = randomUUID();
    await h.pool.query(
      `INSERT INTO "${h.schema}".threads (id, graph_id, status) VALUES ($1, $2, 'interrupted')`,
      [threadId, graphId],
    );
    for (const options of [{ context: { userId: "bob" } }, { durability: "exit" as const }])
      await expect(h.client.threads.continue(threadId, options)).rejects.toMatchObject({
        code: "INVALID_INPUT",
        message: expect.stringContaining("predate them"),
      });
    expect(await h.client.threads.runs(threadId)).toEqual([]);
  });
});

describe("a client pointed at a schema the runtime's tables are not in", () => {
  it("fails each call with InvalidConfigError saying what to do, not a DatabaseError about a relation", async () => {
    const client = createClient({
      databaseUrl: h.databaseUrl,
      redisUrl: h.redisUrl,
      schema: `no_tables_${randomUUID().slice(0, 8)}`,
      prefix: h.prefix,
    });
    try {
      for (const call of [
        () => client.runs.start({ graphId: "linear", input: {} }),
        () => client.threads.get("some-thread"),
        () => client.interrupts.list({}),
      ])
        await expect(call()).rejects.toMatchObject({
          code: "INVALID_CONFIG",
          message: expect.stringMatching(/tables are not in schema "no_tables_[0-9a-f]{8}".*start a worker/),
        });
    } finally {
      await client.close();
    }
  });
});

describe("keys a call does not take", () => {
  it("refuses them, naming each, where they were dropped: a start's threadID began a new random thread", async () => {
    const before = await rows();
    await expect(
      h.client.runs.start({ graphId: "linear", input: {}, threadID: "mine" } as never),
    ).rejects.toMatchObject({
      code: "INVALID_INPUT",
      message: expect.stringContaining('takes no "threadID"'),
    });
    await expect(
      h.client.runs.start({
        graphId: "linear",
        input: {},
        config: { configurable: { thread_id: "mine" } } as never,
      }),
    ).rejects.toMatchObject({
      code: "INVALID_INPUT",
      message: expect.stringContaining("a thread is runs.start's threadId, not configurable.thread_id"),
    });
    await expect(
      h.client.crons.create({ graphId: "linear", schedule: "0 0 1 1 *", tz: "Europe/Paris" } as never),
    ).rejects.toMatchObject({ code: "INVALID_INPUT", message: expect.stringContaining('takes no "tz"') });
    expect(await rows()).toEqual(before);
  });
});
