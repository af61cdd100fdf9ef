// A producer waiting for a run it started or resumed itself: every event of that run reached
// it, so the wait reads Postgres once the run settled (the run and its thread's head, in one
// statement) and not also before.
import { PostgresSaver } from "@layover/checkpoint-postgres";
import { createClient, type LayoverClient } from "@layover/runtime";
import { Redis } from "ioredis";
import pg from "pg";
import pino from "pino";
import { afterAll, beforeAll, expect, it } from "vitest";
import { createHarness, type Harness } from "./support/harness.ts";

let h: Harness;
let pool: pg.Pool;
let client: LayoverClient;
let statements = 0;
let connection: Redis;

beforeAll(async () => {
  h = await createHarness("wait_events");
  await h.startWorker({ id: "worker-events" });
  pool = new pg.Pool({ connectionString: h.databaseUrl, max: 5 });
  const query = pool.query.bind(pool) as (...args: unknown[]) => unknown;
  // Counts the statements this client sends; each still goes to Postgres.
  pool.query = ((...args: unknown[]) => {
    statements += 1;
    return query(...args);
  }) as typeof pool.query;
  connection = new Redis(h.redisUrl);
  client = createClient({
    pool,
    connection,
    schema: h.schema,
    prefix: h.prefix,
    logger: pino({ level: "silent" }),
  });
  // The client's event subscription stands once it has waited once.
  const warm = await client.runs.start({ graphId: "slow-chain", input: { delayMs: 0 } });
  await client.runs.wait(warm.runId);
}, 60_000);
afterAll(async () => {
  await client?.close();
  connection?.disconnect();
  await pool?.end();
  await h?.close();
});

async function counted<T>(work: () => Promise<T>): Promise<{ result: T; statements: number }> {
  const before = statements;
  const result = await work();
  return { result, statements: statements - before };
}

it("a wait for a run this client started reads Postgres once, when the run has settled", async () => {
  const { runId } = await client.runs.start({ graphId: "slow-chain", input: { delayMs: 40 } });
  const waited = await counted(() => client.runs.wait(runId, { timeoutMs: 10_000 }));
  expect(waited.result).toMatchObject({
    status: "success",
    values: { count: 5, trail: ["s0", "s1", "s2", "s3", "s4"] },
  });
  expect(waited.statements).toBe(1);
});

it("a wait asked after its run settled answers from the event the client already heard", async () => {
  const { runId } = await client.runs.start({ graphId: "slow-chain", input: { delayMs: 0 } });
  await expect
    .poll(async () => (await h.client.runs.get(runId)).status, { timeout: 10_000, interval: 20 })
    .toBe("success");
  const started = Date.now();
  const waited = await counted(() => client.runs.wait(runId, { timeoutMs: 10_000 }));
  expect(waited.result).toMatchObject({ status: "success", values: { count: 5 } });
  expect(waited.statements).toBe(1);
  // Not after the wait's safety recheck (2 s), which a lost event would have to wait for.
  expect(Date.now() - started).toBeLessThan(1_500);
});

it("a resume's waits, parked then finished, each read Postgres once", async () => {
  const { runId, threadId } = await client.runs.start({ graphId: "approval", input: { item: "car" } });
  const parked = await counted(() => client.runs.wait(runId, { timeoutMs: 10_000 }));
  expect(parked.result).toMatchObject({ status: "interrupted", values: { item: "car" } });
  expect(parked.result.interrupts).toHaveLength(1);
  expect(parked.statements).toBe(1);
  // The answer goes to the question the wait read: recorded without reading it again.
  const resumed = await counted(() => client.threads.resume(threadId, "yes"));
  expect(resumed.statements).toBe(1);
  const done = await counted(() => client.runs.wait(resumed.result.runId, { timeoutMs: 10_000 }));
  expect(done.result).toMatchObject({ status: "success", values: { outcome: "approved car" } });
  expect(done.statements).toBe(1);
});

it("a resume after a wait whose question someone else answered says who, as without the wait", async () => {
  const { runId, threadId } = await client.runs.start({ graphId: "approval", input: { item: "boat" } });
  expect((await client.runs.wait(runId, { timeoutMs: 10_000 })).status).toBe("interrupted");
  const other = await h.client.threads.resume(threadId, "yes", { resolvedBy: "alice" });
  expect((await h.client.runs.wait(other.runId, { timeoutMs: 10_000 })).status).toBe("success");
  await expect(client.threads.resume(threadId, "no")).rejects.toMatchObject({
    code: "INTERRUPT_ALREADY_RESOLVED",
    message: expect.stringContaining("alice"),
  });
});

it("a resume after a wait answers the thread's new question when the one it saw was answered", async () => {
  const { runId, threadId } = await client.runs.start({
    graphId: "approval",
    input: { item: "plane", twice: true },
  });
  const first = await client.runs.wait(runId, { timeoutMs: 10_000 });
  expect(first.interrupts[0]?.value).toEqual({ question: "approve plane?" });
  const other = await h.client.threads.resume(threadId, "yes");
  const second = await h.client.runs.wait(other.runId, { timeoutMs: 10_000 });
  expect(second.interrupts[0]?.value).toEqual({ question: "really plane?" });
  // This client saw the first question; the thread now asks the second, which this answers.
  const resumed = await client.threads.resume(threadId, "yes");
  expect(await client.runs.wait(resumed.runId, { timeoutMs: 10_000 })).toMatchObject({
    status: "success",
    values: { answers: ["yes", "yes"], outcome: "approved plane" },
  });
});

it("a wait for a run another client started reads Postgres first", async () => {
  const { runId } = await h.client.runs.start({ graphId: "slow-chain", input: { delayMs: 40 } });
  const waited = await counted(() => client.runs.wait(runId, { timeoutMs: 10_000 }));
  expect(waited.result).toMatchObject({ status: "success", values: { count: 5 } });
  expect(waited.statements).toBe(2); // the run, then the run with its head
});

it("a client given a saver of its own reads runs through its own pool, not the saver's", async () => {
  // The saver's pool may reach another database, a replica or a role without the runtime's
  // tables: only checkpoints may be read through it.
  const savers = new pg.Pool({ connectionString: h.databaseUrl, max: 2 });
  const sent: string[] = [];
  const query = savers.query.bind(savers) as (...args: unknown[]) => unknown;
  savers.query = ((config: { name?: string; text?: string } | string, ...rest: unknown[]) => {
    sent.push(typeof config === "string" ? config : (config.name ?? config.text ?? ""));
    return query(config, ...rest);
  }) as typeof savers.query;
  const saver = new PostgresSaver({ pool: savers, schema: h.schema });
  const connection = new Redis(h.redisUrl);
  const own = createClient({
    pool,
    connection,
    schema: h.schema,
    prefix: h.prefix,
    logger: pino({ level: "silent" }),
    saver,
  });
  try {
    const warm = await own.runs.start({ graphId: "slow-chain", input: { delayMs: 0 } });
    await own.runs.wait(warm.runId, { timeoutMs: 10_000 }); // the client's events stand from here
    const { runId } = await own.runs.start({ graphId: "slow-chain", input: { delayMs: 20 } });
    const done = await own.runs.wait(runId, { timeoutMs: 10_000 });
    expect(done).toMatchObject({ status: "success", values: { count: 5 } });
    expect(sent.length).toBeGreaterThan(0);
    expect(sent.filter((name) => !name.startsWith("layover_read_heads"))).toEqual([]);
  } finally {
    await own.close();
    connection.disconnect();
    await savers.end();
  }
});
