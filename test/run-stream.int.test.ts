// runs.stream: what a run reports as its workers run it — the chunks LangGraph's stream() gives
// in-process, in order across jobs and workers — then its end, read from Postgres.
import { AIMessageChunk } from "@langchain/core/messages";
import { Command, MemorySaver } from "@layover/graph";
import { type RunStreamPart, runStreamKey } from "@layover/runtime";
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { chatAgent, narrated } from "./fixtures/narrated.ts";
import { anotherClient, collectParts, countRows, createHarness, type Harness } from "./support/harness.ts";

let h: Harness;
let redis: Redis;

beforeAll(async () => {
  h = await createHarness("run_stream");
  // One superstep per job: a run's chunks come from several jobs.
  await h.startWorker({ id: "stream-a", budget: { steps: 1, ms: 1_000 } });
  await h.startWorker({ id: "stream-b", budget: { steps: 1, ms: 1_000 } });
  redis = new Redis(h.redisUrl);
}, 60_000);
afterAll(async () => {
  redis?.disconnect();
  await h?.close();
});

/** The chunks as `[mode, chunk]`, as LangGraph's stream() gives them for several modes. */
const chunks = (parts: RunStreamPart[]) =>
  parts.filter((p) => p.event !== "end").map((p) => [p.event, p.data]);

/**
 * `value` as JSON, interrupt ids left out (a worker's run seeds its task ids with the run id), and
 * the run id a worker's run has in its metadata (task events carry it).
 */
function withoutIds(value: unknown): unknown {
  return JSON.parse(JSON.stringify(value), (key, v) => (key === "id" || key === "run_id" ? undefined : v));
}

async function localChunks(input: { topic: string }, threadId: string, streamMode: string[]) {
  const graph = narrated.withCheckpointer(new MemorySaver());
  const out: unknown[] = [];
  for await (const chunk of await graph.stream(input, {
    configurable: { thread_id: threadId },
    streamMode,
  } as never))
    out.push(chunk);
  return { graph, out };
}

describe("runs.stream", () => {
  it("streams a start and its resume as LangGraph's stream() does in-process, each ending with the run's result", async () => {
    const modes = ["updates", "custom", "tasks", "values"] as ("updates" | "custom" | "tasks" | "values")[];
    const { runId, threadId } = await h.client.runs.start({
      graphId: "narrated",
      input: { topic: "budget" },
      config: { streamMode: modes },
    });
    const first = await collectParts(h.client.runs.stream(runId, { timeoutMs: 20_000 }));
    expect(chunks(first).filter(([mode]) => mode === "custom")).toEqual([
      ["custom", { token: "Dear" }],
      ["custom", { token: "budget" }],
      ["custom", { token: "team" }],
    ]);
    const end = first.at(-1);
    expect(end?.event).toBe("end");
    expect(end?.data).toMatchObject({ runId, status: "interrupted", values: { draft: "Dear budget team" } });

    const resumed = await h.client.threads.resume(threadId, "yes", { streamMode: "values" });
    const second = await collectParts(h.client.runs.stream(resumed.runId, { timeoutMs: 20_000 }));
    expect(second.at(-1)?.data).toMatchObject({
      status: "success",
      values: { approved: true, sentAt: "2026-12-06T12:00:00Z" },
    });

    // The same graph, input and answer in one process.
    const local = await localChunks({ topic: "budget" }, "local", modes);
    const localResume = await local.graph.stream(new Command({ resume: "yes" }), {
      configurable: { thread_id: "local" },
      streamMode: ["values"],
    });
    const localSecond: unknown[] = [];
    for await (const chunk of localResume) localSecond.push(chunk);
    expect(withoutIds(chunks(first))).toEqual(withoutIds(local.out));
    expect(withoutIds(chunks(second))).toEqual(withoutIds(localSecond));
  });

  it("keeps chunks in order across jobs and worker processes, and each part's id continues a stream", async () => {
    await h.spawnWorker("stream-process", { STEP_BUDGET_STEPS: "1" });
    const started = await Promise.all(
      Array.from({ length: 6 }, () =>
        h.client.runs.start({ graphId: "linear", input: { count: 0 }, config: { streamMode: "updates" } }),
      ),
    );
    const streams = await Promise.all(
      started.map(({ runId }) => collectParts(h.client.runs.stream(runId, { timeoutMs: 30_000 }))),
    );
    const expected = Array.from({ length: 10 }, (_, i) => ["updates", { [`n${i}`]: { count: i + 1 } }]);
    for (const parts of streams) {
      expect(chunks(parts)).toEqual(expected);
      expect(parts.at(-1)?.data).toMatchObject({ status: "success", values: { count: 10 } });
    }

    // Rejoined after the fourth part: the rest, as the first stream gave it.
    const whole = streams[0] as RunStreamPart[];
    const rest = await collectParts(
      h.client.runs.stream(started[0]?.runId as string, { lastEventId: whole[3]?.id, timeoutMs: 5_000 }),
    );
    expect(chunks(rest)).toEqual(chunks(whole.slice(4)));
    expect(rest.at(-1)?.event).toBe("end");
  });

  it('streams a chat model\'s tokens ("messages") across jobs and processes as stream() does in-process', async () => {
    const modes: ("messages" | "updates")[] = ["messages", "updates"];
    const { runId, threadId } = await h.client.runs.start({
      graphId: "chat-agent",
      input: { messages: [{ role: "user", content: "book it", id: "ask" }] },
      config: { streamMode: modes },
    });
    const first = await collectParts(h.client.runs.stream(runId, { timeoutMs: 20_000 }));
    const resumed = await h.client.threads.resume(threadId, "yes", { streamMode: modes });
    const second = await collectParts(h.client.runs.stream(resumed.runId, { timeoutMs: 20_000 }));
    expect(second.at(-1)?.data).toMatchObject({ status: "success" });

    const tokens = (parts: RunStreamPart[]) =>
      parts.filter((p) => p.event === "messages").map((p) => (p.data as [AIMessageChunk])[0]);
    expect(
      tokens(first)
        .map((m) => m.content)
        .join(""),
    ).toBe("Booked LO 123");
    expect(tokens(first).every((m) => m instanceof AIMessageChunk)).toBe(true);
    expect(tokens(second).map((m) => m.content)).toEqual(["yes", ..."Sent"]);

    const local = chatAgent.withCheckpointer(new MemorySaver());
    // A worker runs the graph with metadata { run_id }, which nodes (and "messages") see, as in LangGraph's server.
    const config = { configurable: { thread_id: crypto.randomUUID() }, streamMode: modes };
    const localFirst: unknown[] = [];
    for await (const chunk of await local.stream(
      { messages: [{ role: "user", content: "book it", id: "ask" }] },
      { ...config, metadata: { run_id: runId } },
    ))
      localFirst.push(chunk);
    const localSecond: unknown[] = [];
    for await (const chunk of await local.stream(new Command({ resume: "yes" }), {
      ...config,
      metadata: { run_id: resumed.runId },
    }))
      localSecond.push(chunk);
    // Run, thread and task ids differ (a worker's run seeds its task ids with the run id); the rest is equal.
    const uuids = (value: unknown) =>
      JSON.parse(
        JSON.stringify(value).replace(
          /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/g,
          "<id>",
        ),
      );
    expect(uuids(chunks(first))).toEqual(uuids(localFirst));
    expect(uuids(chunks(second))).toEqual(uuids(localSecond));
  });

  it("keeps a run's stream in Redis for an hour, trimmed, and a run started without a streamMode writes none and is refused", async () => {
    const { runId } = await h.client.runs.start({
      graphId: "linear",
      input: { count: 0 },
      config: { streamMode: "values" },
    });
    await collectParts(h.client.runs.stream(runId, { timeoutMs: 20_000 }));
    const key = runStreamKey(h.prefix, runId);
    const ttl = await redis.pttl(key);
    expect(ttl).toBeGreaterThan(59 * 60 * 1000);
    expect(ttl).toBeLessThanOrEqual(60 * 60 * 1000);
    // The input's values, one per superstep, and the end entry.
    expect(await redis.xlen(key)).toBe(12);

    const quiet = await h.client.runs.start({ graphId: "linear", input: { count: 0 } });
    await h.client.runs.wait(quiet.runId, { timeoutMs: 20_000 });
    expect(await redis.exists(runStreamKey(h.prefix, quiet.runId))).toBe(0);
    await expect(collectParts(h.client.runs.stream(quiet.runId))).rejects.toMatchObject({
      name: "InvalidInputError",
      message: expect.stringContaining("started without a streamMode"),
    });
  });

  it("ends with the run's result from Postgres when its stream was lost, and with a cancel", async () => {
    const { runId } = await h.client.runs.start({
      graphId: "narrated",
      input: { topic: "lost" },
      config: { streamMode: "updates" },
    });
    const whole = await collectParts(h.client.runs.stream(runId, { timeoutMs: 20_000 }));
    expect(whole.length).toBeGreaterThan(1);
    await redis.del(runStreamKey(h.prefix, runId));
    const lost = await collectParts(h.client.runs.stream(runId, { timeoutMs: 20_000 }));
    expect(lost).toEqual([
      { id: "0", event: "end", data: expect.objectContaining({ runId, status: "interrupted" }) },
    ]);

    const slow = await h.client.runs.start({
      graphId: "slow-chain",
      input: { delayMs: 300 },
      config: { streamMode: "updates" },
    });
    const parts: RunStreamPart[] = [];
    for await (const part of h.client.runs.stream(slow.runId, { timeoutMs: 20_000 })) {
      parts.push(part);
      if (parts.length === 1) await h.client.runs.cancel(slow.runId);
    }
    expect(parts[0]).toMatchObject({ event: "updates", data: { s0: { count: 1 } } });
    expect(parts.at(-1)).toMatchObject({ event: "end", data: { status: "cancelled" } });
    expect(parts.length).toBeLessThan(6);
  });

  it("of a run that settled long ago, whose stream expired, ends at once rather than after its grace", async () => {
    const { runId } = await h.client.runs.start({
      graphId: "linear",
      input: {},
      config: { streamMode: "updates" },
    });
    await h.client.runs.wait(runId, { timeoutMs: 20_000 });
    // What an hour does: the stream's TTL deletes it; the run settled long before the read.
    await redis.del(runStreamKey(h.prefix, runId));
    await h.pool.query(
      `UPDATE "${h.schema}".runs SET updated_at = now() - interval '2 hours' WHERE id = $1`,
      [runId],
    );
    const began = Date.now();
    const parts = await collectParts(h.client.runs.stream(runId));
    expect(parts).toEqual([{ id: "0", event: "end", data: expect.objectContaining({ status: "success" }) }]);
    expect(Date.now() - began).toBeLessThan(5_000); // the grace for a worker's end entry is 10 s
  });

  it("gives a reader far behind every chunk, however long after the run ended it reads them", async () => {
    const { runId } = await h.client.runs.start({
      graphId: "chatty",
      input: { chunks: 1_200 },
      config: { streamMode: "custom" },
    });
    await h.client.runs.wait(runId, { timeoutMs: 20_000 });
    const parts: RunStreamPart[] = [];
    for await (const part of h.client.runs.stream(runId, { timeoutMs: 20_000 })) {
      parts.push(part);
      // Held up (a slow browser, backpressure) well past the run's end.
      if (parts.length === 1) await new Promise((resolve) => setTimeout(resolve, 6_000));
    }
    expect(chunks(parts)).toEqual(Array.from({ length: 1_200 }, (_, i) => ["custom", { i }]));
    expect(parts.at(-1)).toMatchObject({
      event: "end",
      data: { status: "success", values: { wrote: 1_200 } },
    });

    // Rejoined with the end's id: the end at once, not after a wait for more.
    const rejoinedAt = Date.now();
    const rejoined = await collectParts(h.client.runs.stream(runId, { lastEventId: parts.at(-1)?.id }));
    expect(rejoined).toEqual([
      expect.objectContaining({ event: "end", data: expect.objectContaining({ runId }) }),
    ]);
    expect(Date.now() - rejoinedAt).toBeLessThan(2_000);
  }, 30_000);

  it("streams a run continued past a breakpoint, given its own streamMode", async () => {
    const { runId, threadId } = await h.client.runs.start({
      graphId: "linear",
      input: { count: 0 },
      config: { streamMode: "updates", interruptBefore: ["n5"] },
    });
    const before = await collectParts(h.client.runs.stream(runId, { timeoutMs: 20_000 }));
    expect(before.at(-1)?.data).toMatchObject({ status: "interrupted", values: { count: 5 } });
    await expect(h.client.threads.continue(threadId, { streamMode: "debug" as never })).rejects.toMatchObject(
      {
        name: "InvalidInputError",
      },
    );
    const continued = await h.client.threads.continue(threadId, { streamMode: "updates" });
    const after = await collectParts(h.client.runs.stream(continued.runId, { timeoutMs: 20_000 }));
    expect(chunks(after)).toEqual(
      Array.from({ length: 5 }, (_, i) => ["updates", { [`n${i + 5}`]: { count: i + 6 } }]),
    );
    expect(after.at(-1)?.data).toMatchObject({ status: "success", values: { count: 10 } });
  });

  it("reports a failed task's error in \"tasks\" as LangGraph's { message, name }, the task's start carrying the run's metadata", async () => {
    const { runId } = await h.client.runs.start({
      graphId: "flaky",
      input: { fail: true },
      config: { streamMode: "tasks" },
    });
    const parts = await collectParts(h.client.runs.stream(runId, { timeoutMs: 20_000 }));
    const [start, result] = chunks(parts).map(([, chunk]) => chunk);
    expect(start).toMatchObject({ name: "work", metadata: { ls_integration: "langgraph", run_id: runId } });
    expect(result).toMatchObject({ name: "work", error: { message: "the work failed", name: "Error" } });
    expect(parts.at(-1)?.data).toMatchObject({ status: "error" });
  });

  it("ends the stream of a run cancelled while queued behind another at once, with its status", async () => {
    const first = await h.client.runs.start({ graphId: "slow-chain", input: { delayMs: 300 } });
    const queued = await h.client.runs.start({
      graphId: "slow-chain",
      threadId: first.threadId,
      input: { delayMs: 0 },
      multitaskStrategy: "enqueue",
      config: { streamMode: "updates" },
    });
    const parts = collectParts(h.client.runs.stream(queued.runId, { timeoutMs: 20_000 }));
    await h.client.runs.cancel(queued.runId);
    const cancelledAt = Date.now();
    expect(await parts).toEqual([
      expect.objectContaining({ event: "end", data: expect.objectContaining({ status: "cancelled" }) }),
    ]);
    // The canceller wrote the end entry: no wait for a worker that will never run the run.
    expect(Date.now() - cancelledAt).toBeLessThan(2_000);
  });

  it("a client's close ends its open streams", async () => {
    const client = anotherClient(h);
    const { runId } = await client.runs.start({
      graphId: "slow-chain",
      input: { delayMs: 300 },
      config: { streamMode: "updates" },
    });
    const stream = client.runs.stream(runId, { timeoutMs: 20_000 });
    expect((await stream.next()).value).toMatchObject({ event: "updates" });
    await client.close();
    expect(await stream.next()).toEqual({ done: true, value: undefined });
    expect(await h.client.runs.wait(runId, { timeoutMs: 20_000 })).toMatchObject({ status: "success" });
  });

  it("refuses a stream mode workers do not report, and bad options, before anything is written", async () => {
    const runsBefore = await countRows(h, "runs");
    for (const streamMode of ["debug", "checkpoints", "tools", "bogus", [], ["updates", 3]])
      await expect(
        h.client.runs.start({ graphId: "linear", input: {}, config: { streamMode: streamMode as never } }),
      ).rejects.toMatchObject({
        name: "InvalidInputError",
        message: expect.stringContaining("config.streamMode"),
      });
    expect(await countRows(h, "runs")).toBe(runsBefore);
    for (const lastEventId of ["latest", "99999999999999999999", "1-99999999999999999999", 7])
      expect(() => h.client.runs.stream(crypto.randomUUID(), { lastEventId: lastEventId as string })).toThrow(
        /lastEventId must be the id of a part/,
      );
    await expect(collectParts(h.client.runs.stream(crypto.randomUUID()))).rejects.toMatchObject({
      name: "RunNotFoundError",
    });
  });

  it("stops reading when the caller stops: break, close() or its signal", async () => {
    const { runId } = await h.client.runs.start({
      graphId: "slow-chain",
      input: { delayMs: 200 },
      config: { streamMode: "updates" },
    });
    const controller = new AbortController();
    const parts: RunStreamPart[] = [];
    for await (const part of h.client.runs.stream(runId, { signal: controller.signal, timeoutMs: 20_000 })) {
      parts.push(part);
      controller.abort();
    }
    expect(parts).toHaveLength(1);
    const closing = h.client.runs.stream(runId, { timeoutMs: 20_000 });
    await closing.next();
    const started = Date.now();
    closing.close();
    expect(await closing.next()).toEqual({ done: true, value: undefined });
    expect(Date.now() - started).toBeLessThan(500);
    expect(await h.client.runs.wait(runId, { timeoutMs: 20_000 })).toMatchObject({ status: "success" });
  });
});
