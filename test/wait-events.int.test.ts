// A producer waiting for a run it started or resumed itself: every event of that run reached
// it, and the worker's event of the park or the end carries what the run stored, so a wait
// under way when the run settles answers without reading Postgres. A run another client
// started is read once first (it may have settled before the wait listened), as is one whose
// event came before the wait began. What the events carry, against what Postgres holds:
// wait-results.int.test.ts.
import { PostgresSaver } from "@layover/checkpoint-postgres";
import { createClient, type LayoverClient } from "@layover/runtime";
import { Redis } from "ioredis";
import pg from "pg";
import pino from "pino";
import { afterAll, beforeAll, expect, it } from "vitest";
import { countingClient, createHarness, type Harness } from "./support/harness.ts";

let h: Harness;
let counting: Awaited<ReturnType<typeof countingClient>>;
let client: LayoverClient;
let pool: pg.Pool;
let counted: (typeof counting)["counted"];

beforeAll(async () => {
  h = await createHarness("wait_events");
  await h.startWorker({ id: "worker-events" });
  counting = await countingClient(h);
  ({ client, pool, counted } = counting);
}, 60_000);
afterAll(async () => {
  await counting?.close();
  await h?.close();
});

it("a wait for a run this client started answers from the run's event, without reading Postgres", async () => {
  const { runId } = await client.runs.start({ graphId: "slow-chain", input: { delayMs: 40 } });
  const waited = await counted(() => client.runs.wait(runId, { timeoutMs: 10_000 }));
  expect(waited.result).toMatchObject({
    status: "success",
    values: { count: 5, trail: ["s0", "s1", "s2", "s3", "s4"] },
  });
  expect(waited.statements).toBe(0);
});

it("a wait asked after its run settled reads Postgres once, woken by the event the client already heard", async () => {
  const { runId } = await client.runs.start({ graphId: "slow-chain", input: { delayMs: 0 } });
  await expect
    .poll(async () => (await h.client.runs.get(runId)).status, { timeout: 10_000, interval: 20 })
    .toBe("success");
  const started = Date.now();
  const waited = await counted(() => client.runs.wait(runId, { timeoutMs: 10_000 }));
  expect(waited.result).toMatchObject({ status: "success", values: { count: 5 } });
  // The event is a hint only: the run may have changed since (cancelled, answered, deleted).
  expect(waited.statements).toBe(1);
  // Not after the wait's safety recheck (2 s), which a lost event would have to wait for.
  expect(Date.now() - started).toBeLessThan(1_500);
});

it("a resume's waits, parked then finished, read nothing; the resume is one statement", async () => {
  const { runId, threadId } = await client.runs.start({ graphId: "approval", input: { item: "car" } });
  const parked = await counted(() => client.runs.wait(runId, { timeoutMs: 10_000 }));
  expect(parked.result).toMatchObject({ status: "interrupted", values: { item: "car" } });
  expect(parked.result.interrupts).toHaveLength(1);
  expect(parked.statements).toBe(0);
  // The answer goes to the question the wait read: recorded without reading it again.
  const resumed = await counted(() => client.threads.resume(threadId, "yes"));
  expect(resumed.statements).toBe(1);
  const done = await counted(() => client.runs.wait(resumed.result.runId, { timeoutMs: 10_000 }));
  expect(done.result).toMatchObject({ status: "success", values: { outcome: "approved car" } });
  expect(done.statements).toBe(0);
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

it("a wait for a run another client started reads Postgres first, then answers from the event", async () => {
  const { runId } = await h.client.runs.start({ graphId: "slow-chain", input: { delayMs: 40 } });
  const waited = await counted(() => client.runs.wait(runId, { timeoutMs: 10_000 }));
  expect(waited.result).toMatchObject({ status: "success", values: { count: 5 } });
  expect(waited.statements).toBe(1); // the run, still running
});

it("a state over the event's limit is read from Postgres once the run settled", async () => {
  const big = "x".repeat(100_000);
  const { runId } = await client.runs.start({
    graphId: "chat",
    input: { messages: [{ role: "user", content: big }] },
  });
  const waited = await counted(() => client.runs.wait(runId, { timeoutMs: 10_000 }));
  expect(waited.result.status).toBe("success");
  expect(waited.result.values.messages).toHaveLength(2);
  expect(waited.statements).toBe(1); // the run with its head
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
