// The seeds' interrupt patterns (fixtures/seed-shapes.ts) run in-process (the engine and its
// MemorySaver: invoke, then invoke(Command({ resume }))) and through the runtime (runs.start,
// park, threads.resume on either of two workers; real Postgres, Redis and BullMQ): each gives
// what the seed documents, and both paths show the same (support/differential.ts).
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { dbOf } from "./fixtures/seed-shapes.ts";
import { byId, differential, just } from "./support/differential.ts";
import { createHarness, type Harness } from "./support/harness.ts";

let h: Harness;

beforeAll(async () => {
  h = await createHarness("seed-snippets");
  await h.startWorker({ id: "worker-a" });
  await h.startWorker({ id: "worker-b" });
}, 60_000);
afterAll(async () => {
  await h?.close();
});

const asked = (seen: { interrupts: Array<{ value: unknown }> } | undefined) =>
  seen?.interrupts.map((i) => i.value);

describe("seed 002", () => {
  it("basic interrupt + resume: asks, then Command({ resume: true }) approves", async () => {
    const { shown } = await differential(h, "seed-approval", { approved: false }, [just(true)]);
    expect(asked(shown.remote[0])).toEqual(["Do you approve this action?"]);
    expect(shown.remote[0]?.tasks).toEqual([
      { name: "approval", interrupts: ["Do you approve this action?"] },
    ]);
    expect(shown.remote[1]).toMatchObject({ values: { approved: true }, interrupts: [], next: [] });
  });

  it("validation loop: an invalid answer asks again with the clearer prompt; a valid one ends", async () => {
    const { shown } = await differential(h, "seed-age", { age: null }, [just("thirty"), just(30)]);
    expect(shown.remote.map(asked)).toEqual([
      ["What is your age?"],
      ["'thirty' is not a valid age. Please enter a positive number."],
      [],
    ]);
    expect(shown.remote[2]?.values).toEqual({ age: 30 });
  });

  it("multiple interrupts: parallel branches answered at once by id", async () => {
    const answerAll = byId(
      () => true,
      (value: string) => `answer for ${value}`,
    );
    const { shown } = await differential(h, "seed-parallel", { vals: [] }, [answerAll]);
    expect(asked(shown.remote[0])).toEqual(["question_a", "question_b"]);
    expect(shown.remote[1]?.values.vals).toEqual(["a:answer for question_a", "b:answer for question_b"]);
  });

  it("side effects before interrupt(): an upsert stays one row, an insert before it doubles", async () => {
    const { remote: r, local: l } = await differential(h, "seed-side-effects", { userId: "u1" }, [
      just(true),
      just(true),
      just(true),
    ]);
    const expected = {
      users: { u1: "pending_approval" },
      auditLog: [
        { userId: "u1", action: "approved" },
        { userId: "u1", action: "pending_approval" },
        { userId: "u1", action: "pending_approval" },
      ],
    };
    expect(dbOf(r.threadId)).toEqual(expected);
    expect(dbOf(l.threadId)).toEqual(expected);
  });
});

describe("seed 001", () => {
  it("multiple interrupts in sequence: each resume goes past the next interrupt()", async () => {
    const { shown } = await differential(h, "seed-multi-step", {}, [just("value_1"), just("value_2")]);
    expect(shown.remote.map(asked)).toEqual([["Step 1 input:"], ["Step 2 input:"], []]);
    expect(shown.remote[2]?.values).toEqual({ step1: "value_1", step2: "value_2" });
  });

  it("tool review: one question per planned tool; only the confirmed ones run", async () => {
    const plannedTools = [
      { name: "search", args: { q: "flights" } },
      { name: "book", args: { id: 7 } },
      { name: "email", args: {} },
    ];
    const { shown } = await differential(h, "seed-tool-review", { plannedTools }, [
      just(true),
      just(false),
      just(true),
    ]);
    expect(shown.remote.map(asked)).toEqual([
      ['Execute search with args {"q":"flights"}?'],
      ['Execute book with args {"id":7}?'],
      ["Execute email with args {}?"],
      [],
    ]);
    expect(shown.remote[3]?.values.results).toEqual(["search done", "email done"]);
  });

  it("dynamic interrupts: a low risk never asks; a high one asks and a refusal aborts", async () => {
    const low = await differential(h, "seed-dynamic", { riskScore: 0.2 }, []);
    expect(low.shown.remote[0]).toMatchObject({ values: { processed: true }, interrupts: [] });
    const high = await differential(h, "seed-dynamic", { riskScore: 0.9 }, [just(false)]);
    expect(asked(high.shown.remote[0])).toEqual(["High risk (0.9). Override?"]);
    expect(high.shown.remote[1]?.values).toEqual({ riskScore: 0.9, abort: true });
  });
});

describe("seed 003", () => {
  it("tool call approval: a LangChain tool asks inside a node; the answer decides", async () => {
    const call = { to: "ada@example.com", subject: "hi", body: "hello" };
    const approved = await differential(h, "seed-send-email", { call }, [
      just({ action: "approve", to: "grace@example.com" }),
    ]);
    expect(asked(approved.shown.remote[0])).toEqual([
      { action: "send_email", ...call, message: "Approve sending this email?" },
    ]);
    expect(approved.shown.remote[1]?.values.outcome).toBe("Email sent to grace@example.com");
    const rejected = await differential(h, "seed-send-email", { call }, [just({ action: "reject" })]);
    expect(rejected.shown.remote[1]?.values.outcome).toBe("Email cancelled by user");
  });
});
