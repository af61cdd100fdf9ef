// What a wait answers from a run's event is what Postgres holds: the same state (values that are
// more than JSON, LangChain messages, revived as a read revives them) and the same pending
// interrupts (ids, values, options, created_at, deadline, oldest first), for a park, a re-park
// after a partial answer and an end. Each wait is checked to have read nothing, and compared
// with the answer of a client that reads Postgres (the run settled before it asked). An event
// heard before a wait began does not answer it: the run may have changed since.
import { type LayoverClient, RunNotFoundError, type RunResult } from "@layover/runtime";
import { Redis } from "ioredis";
import { afterAll, beforeAll, expect, it } from "vitest";
import { countingClient, createHarness, type Harness } from "./support/harness.ts";

let h: Harness;
let counting: Awaited<ReturnType<typeof countingClient>>;
let client: LayoverClient;

beforeAll(async () => {
  h = await createHarness("wait_results");
  await h.startWorker({ id: "worker-results" });
  counting = await countingClient(h);
  client = counting.client;
}, 60_000);
afterAll(async () => {
  await counting?.close();
  await h?.close();
});

/** The run's result from its event (no statement), checked against Postgres's. */
async function waitWithoutReading(runId: string): Promise<RunResult> {
  const { result, statements } = await counting.counted(() => client.runs.wait(runId, { timeoutMs: 10_000 }));
  expect(statements).toBe(0);
  expect(result).toEqual(await h.client.runs.wait(runId, { timeoutMs: 10_000 }));
  return result;
}

it("a park's event gives the state and the question Postgres holds, values more than JSON included", async () => {
  const { runId, threadId } = await client.runs.start({ graphId: "rich", input: { label: "car" } });
  const parked = await waitWithoutReading(runId);
  expect(parked.status).toBe("interrupted");
  const extras = parked.values.extras as Record<string, unknown>;
  expect(extras.at).toEqual(new Date(Date.UTC(2026, 11, 4)));
  expect(extras.tags).toEqual(new Map([["a", 1]]));
  expect(extras.seen).toEqual(new Set(["x"]));
  expect(extras.big).toBe(10n);
  expect(extras.nan).toBeNaN();
  const [question] = parked.interrupts;
  expect(question).toMatchObject({
    value: { question: "keep car?" },
    node: "ask",
    timeoutMs: 3_600_000,
    onTimeout: "no",
  });
  expect(question?.deadline?.getTime()).toBeGreaterThan(Date.now() + 3_500_000);
  expect(question?.createdAt).toBeInstanceOf(Date);

  const resumed = await client.threads.resume(threadId, "yes");
  const done = await waitWithoutReading(resumed.runId);
  expect(done).toMatchObject({ status: "success", interrupts: [], values: { label: "car", answer: "yes" } });
  expect((done.values.extras as Record<string, unknown>).tags).toEqual(new Map([["a", 1]]));
});

it("a re-park after a partial answer gives the questions still pending, each with its first created_at", async () => {
  const { runId, threadId } = await client.runs.start({ graphId: "fork", input: {} });
  expect((await waitWithoutReading(runId)).interrupts.map((i) => i.value)).toEqual(["go?"]);
  const going = await client.threads.resume(threadId, "go");
  const both = await waitWithoutReading(going.runId);
  expect(both.interrupts.map((i) => i.value).sort()).toEqual(["left?", "right?"]);
  const left = both.interrupts.find((i) => i.value === "left?");
  const right = both.interrupts.find((i) => i.value === "right?");
  const partial = await client.threads.resume(threadId, { [left?.id as string]: "L" });
  const rest = await waitWithoutReading(partial.runId);
  expect(rest.status).toBe("interrupted");
  expect(rest.interrupts).toEqual([right]);
  const last = await client.threads.resume(threadId, "R");
  expect(await waitWithoutReading(last.runId)).toMatchObject({
    status: "success",
    values: { left: "L", right: "R" },
  });
});

it("LangChain messages come back as their classes, as a read gives them", async () => {
  const { runId } = await client.runs.start({
    graphId: "chat",
    input: { messages: [{ role: "user", content: "hello" }] },
  });
  const done = await waitWithoutReading(runId);
  const [question, reply] = done.values.messages as Array<{ getType(): string; content: unknown }>;
  expect(question?.getType()).toBe("human");
  expect(reply?.content).toBe("human: hello");
});

/**
 * A run `client` started that parked, its park event delivered before any wait for it began
 * (seen by a subscriber of the run events, then a moment for the client's own subscription).
 */
async function parkedUnwaited() {
  const listener = new Redis(h.redisUrl);
  try {
    const { runId, threadId } = await client.runs.start({ graphId: "approval", input: { item: "car" } });
    await listener.subscribe(`${h.prefix}:run-events`);
    const heard = new Promise<void>((resolve) =>
      listener.on("message", (_channel: string, message: string) => {
        if (message.includes(runId) && message.includes('"interrupted"')) resolve();
      }),
    );
    // Parked already if the event came before the subscription: Postgres says so.
    const status = (await h.client.runs.get(runId)).status;
    if (status !== "interrupted") await heard;
    await new Promise((resolve) => setTimeout(resolve, 50));
    return { runId, threadId };
  } finally {
    listener.disconnect();
  }
}

it("a wait begun after its parked run was cancelled says cancelled, even when the cancel went unannounced", async () => {
  const { runId } = await parkedUnwaited();
  // cancel_run alone: what runs.cancel records before it announces (its announcement lost).
  await h.pool.query(`SELECT * FROM "${h.schema}".cancel_run($1, 'ops')`, [runId]);
  expect((await client.runs.wait(runId, { timeoutMs: 5_000 })).status).toBe("cancelled");
});

it("a wait begun after someone else answered the run's question says what Postgres says", async () => {
  const { runId, threadId } = await parkedUnwaited();
  const answer = await h.client.threads.resume(threadId, "yes");
  await h.client.runs.wait(answer.runId, { timeoutMs: 10_000 });
  const waited = await client.runs.wait(runId, { timeoutMs: 5_000 });
  expect(waited.interrupts).toEqual([]);
  expect(waited).toEqual(await h.client.runs.wait(runId, { timeoutMs: 5_000 }));
});

it("a wait begun after the run's thread was deleted finds no run", async () => {
  const { runId, threadId } = await parkedUnwaited();
  await h.client.threads.delete(threadId);
  await expect(client.runs.wait(runId, { timeoutMs: 2_000 })).rejects.toBeInstanceOf(RunNotFoundError);
});
