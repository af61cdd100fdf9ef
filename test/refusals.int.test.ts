// What the runtime refuses, against real Postgres, Redis and BullMQ: bad calls are typed errors
// that change nothing, and what only the graph's own schema refuses is given back.
import { HumanMessage } from "@langchain/core/messages";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { countRows, createHarness, type Harness, parkedApproval } from "./support/harness.ts";

let h: Harness;

beforeAll(async () => {
  h = await createHarness("refusals");
  await h.startWorker({ id: "worker-a" });
}, 60_000);
afterAll(async () => {
  await h?.close();
});

const count = (table: string) => countRows(h, table);
const parked = (item: string, twice = false) => parkedApproval(h, item, twice);

describe("a resume whose update only the graph's own schema refuses", () => {
  it("fails its run and gives its answer back: the thread waits, and a good answer finishes it", async () => {
    const { runId, threadId } = await h.client.runs.start({
      graphId: "picky-approval",
      input: { amount: 2 },
    });
    const parked = await h.client.runs.wait(runId);
    const interruptId = parked.interrupts[0]?.id;
    for (const [answer, options, code] of [["ok", { update: { amount: 3 } }, "INVALID_INPUT"]] as const) {
      const refused = await h.client.threads.resume(threadId, answer, { ...options, idempotencyKey: answer });
      expect(await h.client.runs.wait(refused.runId)).toMatchObject({ status: "error", error: { code } });
      const thread = await h.client.threads.get(threadId);
      expect(thread.status).toBe("interrupted");
      expect(thread.tasks[0]?.interrupts.map((i) => i.id)).toEqual([interruptId]);
      // A retry of the same call is the same run; a new answer is not refused as answered.
      expect(await h.client.threads.resume(threadId, answer, { ...options, idempotencyKey: answer })).toEqual(
        refused,
      );
    }
    const done = await h.client.runs.wait((await h.client.threads.resume(threadId, "ok, go")).runId);
    expect(done).toMatchObject({ status: "success", values: { amount: 2, approved: "ok, go" } });
  });
});

describe("bad calls change nothing", () => {
  it("refuses an unknown graph id and input that fails the state schema", async () => {
    const before = [await count("threads"), await count("runs")];
    await expect(h.client.runs.start({ graphId: "nope", input: {} })).rejects.toMatchObject({
      code: "UNKNOWN_GRAPH",
      message: expect.stringContaining("approval"),
    });
    await expect(h.client.runs.start({ graphId: "approval", input: { item: 5 } })).rejects.toMatchObject({
      code: "INVALID_INPUT",
      message: expect.stringContaining("item"),
    });
    await expect(
      h.client.runs.start({ graphId: "approval", input: { item: "x", extra: 1 } }),
    ).rejects.toMatchObject({
      code: "INVALID_INPUT",
    });
    // A thread id no run could go on (the engine needs one; Postgres cannot hold a NUL).
    for (const threadId of ["", "a\u0000b", 42])
      await expect(
        h.client.runs.start({ graphId: "approval", input: { item: "x" }, threadId: threadId as string }),
      ).rejects.toMatchObject({
        code: "INVALID_INPUT",
        message: expect.stringContaining("threadId must be"),
      });
    expect([await count("threads"), await count("runs")]).toEqual(before);
  });

  it("refuses resumes that cannot apply, with typed errors", async () => {
    await expect(h.client.threads.resume("no-such-thread", "yes")).rejects.toMatchObject({
      code: "THREAD_NOT_FOUND",
    });
    const { threadId } = await parked("car");
    await expect(h.client.threads.resume(threadId, "maybe")).rejects.toMatchObject({
      code: "INVALID_RESUME",
    });
    const pendingId = (await h.client.threads.get(threadId)).tasks[0]?.interrupts[0]?.id as string;
    await expect(
      h.client.threads.resume(threadId, {
        [pendingId]: "yes",
        "00000000-0000-5000-8000-000000000000": "yes", // shaped as an interrupt id, and none
      }),
    ).rejects.toMatchObject({ code: "UNKNOWN_INTERRUPT" });
    // Interrupt ids in another case, or of another thread, are refused as ids, not taken as an answer.
    await expect(
      h.client.threads.resume(threadId, { [pendingId.toUpperCase()]: "yes" }),
    ).rejects.toMatchObject({ code: "UNKNOWN_INTERRUPT" });
    const other = await parked("bike");
    const [otherPending] = (await h.client.threads.get(other.threadId)).tasks[0]?.interrupts ?? [];
    await expect(
      h.client.threads.resume(threadId, { [otherPending?.id as string]: "yes" }),
    ).rejects.toMatchObject({ code: "UNKNOWN_INTERRUPT" });
    // Keyed by a record's own UUID (v4), not an interrupt id: one answer to its one question,
    // which wants yes or no.
    await expect(
      h.client.threads.resume(threadId, { "00000000-0000-4000-8000-000000000000": "yes" }),
    ).rejects.toMatchObject({ code: "INVALID_RESUME" });
    expect((await h.client.threads.get(threadId)).tasks[0]?.interrupts).toHaveLength(1);
    const { runId } = await h.client.threads.resume(threadId, "yes");
    await h.client.runs.wait(runId);
    // Answered, and the run that took the answer finished: a second answer lost to the first.
    await expect(h.client.threads.resume(threadId, "yes")).rejects.toMatchObject({
      code: "INTERRUPT_ALREADY_RESOLVED",
    });
    // A stale answer keyed by the interrupt's id still says who answered first.
    await expect(h.client.threads.resume(threadId, { [pendingId]: "no" })).rejects.toMatchObject({
      code: "INTERRUPT_ALREADY_RESOLVED",
    });
    const started = await h.client.runs.start({ graphId: "linear", input: {} });
    await h.client.runs.wait(started.runId);
    await expect(h.client.threads.resume(started.threadId, "yes")).rejects.toMatchObject({
      code: "NOT_INTERRUPTED",
    });
  });

  it("refuses one answer for several pending interrupts, saying how to name each with threads.resume", async () => {
    const fork = await h.client.runs.start({ graphId: "fork", input: {} });
    await h.client.runs.wait(fork.runId);
    const { runId } = await h.client.threads.resume(fork.threadId, "go");
    const waiting = await h.client.runs.wait(runId);
    expect(waiting.interrupts).toHaveLength(2);
    const error = await h.client.threads.resume(fork.threadId, "both").catch((e: unknown) => e);
    expect(error).toMatchObject({
      code: "AMBIGUOUS_RESUME",
      pendingIds: expect.arrayContaining(waiting.interrupts.map((i) => i.id)),
      message: expect.stringContaining("threads.resume(threadId, { [interruptId]: value })"),
    });
    expect((error as Error).message).not.toContain("Command");
    expect((await h.client.threads.get(fork.threadId)).status).toBe("interrupted");
  });

  it("refuses an update or an undefined answer a resume could not deliver, and the wait stays", async () => {
    const { threadId } = await parked("van");
    const runsBefore = await count("runs");
    await expect(h.client.threads.resume(threadId, "yes", { update: { notAKey: 1 } })).rejects.toMatchObject({
      code: "INVALID_INPUT",
      message: expect.stringContaining("notAKey"),
    });
    await expect(h.client.threads.resume(threadId, "yes", { update: { item: 7 } })).rejects.toMatchObject({
      code: "INVALID_INPUT",
      message: expect.stringContaining("item"),
    });
    await expect(h.client.threads.resume(threadId, undefined)).rejects.toMatchObject({
      code: "INVALID_INPUT",
      message: expect.stringContaining("undefined"),
    });
    expect(await count("runs")).toBe(runsBefore);
    const thread = await h.client.threads.get(threadId);
    expect(thread.status).toBe("interrupted");
    expect(thread.tasks[0]?.interrupts).toHaveLength(1);
    const { runId } = await h.client.threads.resume(threadId, "yes", { update: { item: "minivan" } });
    expect(await h.client.runs.wait(runId)).toMatchObject({ status: "success", values: { item: "minivan" } });
  });

  it("refuses input and answers holding a NUL character, which Postgres cannot store", async () => {
    const before = await count("runs");
    await expect(
      h.client.runs.start({ graphId: "approval", input: { item: "a\u0000b" } }),
    ).rejects.toMatchObject({
      code: "INVALID_INPUT",
      message: expect.stringContaining("NUL character (\\u0000) at item"),
    });
    const { threadId } = await parked("nul");
    await expect(h.client.threads.resume(threadId, "y\u0000es")).rejects.toMatchObject({
      code: "INVALID_INPUT",
    });
    expect(await count("runs")).toBe(before + 1);
    expect((await h.client.threads.get(threadId)).status).toBe("interrupted");
  });

  it("refuses input and answers JSON would change (a Map, a Date, a BigInt) or Postgres cannot hold, writing nothing", async () => {
    const before = await count("runs");
    for (const [item, says] of [
      [new Map([["a", 1]]), "an instance of Map"],
      [new Date(0), "date.toISOString()"],
      [5n, "a BigInt"],
      ["cut \ud83d", "half a surrogate pair at item"],
    ] as const) {
      await expect(
        h.client.runs.start({ graphId: "approval", input: { item: item as unknown as string } }),
      ).rejects.toMatchObject({ code: "INVALID_INPUT", message: expect.stringContaining(says) });
    }
    const { threadId } = await parked("surrogate");
    await expect(h.client.threads.resume(threadId, "y\ud83d")).rejects.toMatchObject({
      code: "INVALID_INPUT",
      message: expect.stringContaining("half a surrogate pair"),
    });
    expect(await count("runs")).toBe(before + 1);
    expect((await h.client.threads.get(threadId)).status).toBe("interrupted");
  });

  it("takes LangChain messages as input: the graph gets messages, and they come back as messages", async () => {
    const { runId } = await h.client.runs.start({
      graphId: "chat",
      input: { messages: [new HumanMessage("book LAX to JFK")] },
    });
    const result = await h.client.runs.wait(runId);
    expect(result.status).toBe("success");
    const messages = result.values.messages as Array<{ getType(): string; content: unknown }>;
    expect(messages.map((m) => [m.getType(), m.content])).toEqual([
      ["human", "book LAX to JFK"],
      ["ai", "human: book LAX to JFK"],
    ]);
  });

  it.each([
    ["right after its input", "nul-question", -1],
    ["after a superstep the worker held", "nul-question-later", 0],
  ])(
    "fails a run whose interrupt value Postgres cannot store (%s), instead of retrying it forever",
    async (_, graphId, step) => {
      const { runId, threadId } = await h.client.runs.start({ graphId, input: {} });
      const result = await h.client.runs.wait(runId, { timeoutMs: 10_000 });
      expect(result).toMatchObject({ status: "error", error: { code: "NOT_SERIALIZABLE" } });
      expect(result.error?.message).toContain("at [0].value.note");
      const thread = await h.client.threads.get(threadId);
      expect(thread.status).toBe("error");
      // The run fails where it paused: every superstep before the question is stored.
      expect(thread.metadata?.step).toBe(step);
    },
  );

  it("fails a run whose input the graph turns into a value no checkpoint can hold, storing nothing", async () => {
    const { runId, threadId } = await h.client.runs.start({
      graphId: "unstorable-input",
      input: { value: 1 },
    });
    const result = await h.client.runs.wait(runId, { timeoutMs: 10_000 });
    expect(result).toMatchObject({ status: "error", error: { code: "NOT_SERIALIZABLE" } });
    expect((await h.client.threads.get(threadId)).status).toBe("error");
    const history = [];
    for await (const checkpoint of h.client.threads.history(threadId)) history.push(checkpoint);
    expect(history).toEqual([]);
  });

  it("fails a resumed run whose superstep cannot be stored; its answer stays taken", async () => {
    const { runId, threadId } = await h.client.runs.start({ graphId: "unstorable-after-answer", input: {} });
    expect((await h.client.runs.wait(runId, { timeoutMs: 10_000 })).status).toBe("interrupted");
    const resumed = await h.client.threads.resume(threadId, "yes");
    const result = await h.client.runs.wait(resumed.runId, { timeoutMs: 10_000 });
    expect(result).toMatchObject({ status: "error", error: { code: "NOT_SERIALIZABLE" } });
    const thread = await h.client.threads.get(threadId);
    expect(thread.status).toBe("error");
    expect(thread.values).toMatchObject({ answer: "yes" });
    await expect(h.client.threads.resume(threadId, "yes again")).rejects.toMatchObject({
      code: "INTERRUPT_ALREADY_RESOLVED",
    });
  });

  it("refuses a multitask strategy it does not know, and a wait timeout that is not a number", async () => {
    const before = await count("runs");
    await expect(
      h.client.runs.start({
        graphId: "approval",
        input: { item: "x" },
        multitaskStrategy: "rollback" as "reject",
      }),
    ).rejects.toMatchObject({ code: "INVALID_INPUT", message: expect.stringContaining("rollback") });
    expect(await count("runs")).toBe(before);
    const { runId } = await parked("tram");
    for (const timeoutMs of ["300", Number.NaN, -1]) {
      await expect(h.client.runs.wait(runId, { timeoutMs: timeoutMs as number })).rejects.toMatchObject({
        code: "INVALID_INPUT",
        message: expect.stringContaining("timeoutMs"),
      });
    }
  });

  it("refuses an interrupts.list query Postgres would fail on, naming the field", async () => {
    for (const [query, field] of [
      [{ limit: Number.NaN }, "limit"],
      [{ limit: 0 }, "limit"],
      [{ status: "done" }, "status"],
      [{ olderThan: new Date("not a date") }, "olderThan"],
      [{ cursor: "garbage" }, "cursor"],
      [{ cursor: Buffer.from("[1,2]").toString("base64url") }, "cursor"],
      [{ cursor: Buffer.from('["x","y","z"]').toString("base64url") }, "cursor"],
    ] as const) {
      await expect(
        h.client.interrupts.list(query as Parameters<typeof h.client.interrupts.list>[0]),
      ).rejects.toMatchObject({ code: "INVALID_INPUT", message: expect.stringContaining(field) });
    }
  });

  it("refuses a wait for no run id, and reconcile options it cannot use, with typed errors", async () => {
    await expect(h.client.runs.wait(undefined as unknown as string)).rejects.toMatchObject({
      code: "RUN_NOT_FOUND",
    });
    for (const [options, field] of [
      [{ pageSize: -1 }, "pageSize"],
      [{ limit: 1.5 }, "limit"],
      [{ minAgeMs: Number.NaN }, "minAgeMs"],
      [{ failedBackoffMs: -5 }, "failedBackoffMs"],
    ] as const) {
      await expect(h.client.reconcile(options)).rejects.toMatchObject({
        code: "INVALID_INPUT",
        message: expect.stringContaining(field),
      });
    }
  });

  it("rejects a start on a thread waiting for a person, or queues it with multitaskStrategy enqueue", async () => {
    const { threadId } = await parked("boat");
    await expect(
      h.client.runs.start({ graphId: "approval", input: { item: "boat2" }, threadId }),
    ).rejects.toMatchObject({
      code: "THREAD_BUSY",
    });
    const queued = await h.client.runs.start({
      graphId: "approval",
      input: { item: "boat2" },
      threadId,
      multitaskStrategy: "enqueue",
    });
    const resumed = await h.client.threads.resume(threadId, "yes");
    expect((await h.client.runs.wait(resumed.runId)).status).toBe("success");
    const second = await h.client.runs.wait(queued.runId);
    expect(second.status).toBe("interrupted");
    expect(second.values).toMatchObject({ item: "boat2" });
  });
});

it("an answer keyed by the user's own UUIDs (no interrupt's) is one answer to the one question", async () => {
  const { runId, threadId } = await h.client.runs.start({ graphId: "decide-each", input: {} });
  expect((await h.client.runs.wait(runId)).status).toBe("interrupted");
  const decisions = {
    "0b7e3a52-61f4-4c9e-9a0e-6f1d2c3b4a59": "approve",
    "9c1d2e3f-4a5b-4c6d-8e7f-0a1b2c3d4e5f": "reject",
  };
  const resumed = await h.client.threads.resume(threadId, decisions);
  expect(await h.client.runs.wait(resumed.runId)).toMatchObject({ status: "success", values: { decisions } });
});
