// An idempotency key names one call: its retry returns the first call's run. A key given again
// with other arguments (another answer to the same approval, another booking's input) used to
// return the first call's run too, so the caller believed the second call was done. It is
// refused with IdempotencyKeyReusedError, naming what differs, and nothing changes (a key of the
// other kind of call is too: caller-mistakes.int.test.ts).
import { IdempotencyKeyReusedError } from "@layover/runtime";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createHarness, type Harness, parkedApproval, producerRows } from "./support/harness.ts";

let h: Harness;

beforeAll(async () => {
  h = await createHarness("idempotency_reuse");
  await h.startWorker({ id: "worker-a" });
}, 60_000);
afterAll(async () => {
  await h?.close();
});

const rows = () => producerRows(h);

describe("a start's key given again", () => {
  it("with the same arguments returns the first run, however the caller spells them", async () => {
    const threadId = `same-start-${Date.now()}`;
    const first = await h.client.runs.start({
      graphId: "linear",
      input: { count: 1 },
      config: { context: { at: "2026-12-07", user: "ann", roles: ["a", "b"] } },
      threadId,
      idempotencyKey: "k",
    });
    const before = await rows();
    // Keys in another order, a property left undefined: what Postgres stored is the same call.
    const again = await h.client.runs.start({
      graphId: "linear",
      threadId,
      idempotencyKey: "k",
      config: { context: { roles: ["a", "b"], user: "ann", at: "2026-12-07", team: undefined } },
      input: { count: 1 },
      multitaskStrategy: "enqueue",
    });
    expect(again).toEqual(first);
    expect(await rows()).toEqual(before);
  });

  it("with another input or config is refused, naming the first run and what differs", async () => {
    const threadId = `other-start-${Date.now()}`;
    const first = await h.client.runs.start({
      graphId: "linear",
      input: { count: 1 },
      threadId,
      idempotencyKey: "k",
    });
    const before = await rows();
    const refused = h.client.runs.start({
      graphId: "linear",
      input: { count: 2 },
      threadId,
      idempotencyKey: "k",
    });
    await expect(refused).rejects.toBeInstanceOf(IdempotencyKeyReusedError);
    await expect(refused).rejects.toMatchObject({
      code: "IDEMPOTENCY_KEY_REUSED",
      threadId,
      idempotencyKey: "k",
      runId: first.runId,
      differs: ["input"],
      message: expect.stringContaining(`run ${first.runId}`),
    });
    await expect(
      h.client.runs.start({
        graphId: "linear",
        input: { count: 1 },
        config: { recursionLimit: 50 },
        threadId,
        idempotencyKey: "k",
      }),
    ).rejects.toMatchObject({ code: "IDEMPOTENCY_KEY_REUSED", differs: ["config"] });
    expect(await rows()).toEqual(before);
    expect((await h.client.runs.wait(first.runId)).values).toMatchObject({ count: 11 });
  });

  it("with no threadId and another input is refused too (the key's thread derives from it)", async () => {
    const key = `derived-${Date.now()}`;
    const first = await h.client.runs.start({ graphId: "linear", input: { count: 1 }, idempotencyKey: key });
    const before = await rows();
    await expect(
      h.client.runs.start({ graphId: "linear", input: { count: 5 }, idempotencyKey: key }),
    ).rejects.toMatchObject({ code: "IDEMPOTENCY_KEY_REUSED", runId: first.runId, threadId: first.threadId });
    expect(await rows()).toEqual(before);
  });

  it("the input's values are left out of the message (they may be personal data)", async () => {
    const threadId = `redacted-${Date.now()}`;
    await h.client.runs.start({ graphId: "linear", input: { count: 1 }, threadId, idempotencyKey: "k" });
    const error = await h.client.runs
      .start({ graphId: "linear", input: { count: 987654321 }, threadId, idempotencyKey: "k" })
      .catch((e: unknown) => e as Error);
    expect(error).toBeInstanceOf(IdempotencyKeyReusedError);
    expect((error as Error).message).not.toContain("987654321");
  });
});

describe("a resume's key given again", () => {
  it("with another answer is refused: a rejection retried as an approval does not pass for done", async () => {
    const { threadId } = await parkedApproval(h, "flight");
    const first = await h.client.threads.resume(threadId, "no", { idempotencyKey: "click-1" });
    const before = await rows();
    const refused = h.client.threads.resume(threadId, "yes", { idempotencyKey: "click-1" });
    await expect(refused).rejects.toMatchObject({
      code: "IDEMPOTENCY_KEY_REUSED",
      runId: first.runId,
      differs: ["answer"],
    });
    expect(await rows()).toEqual(before);
    const result = await h.client.runs.wait(first.runId);
    expect(result.values).toMatchObject({ answers: ["no"], outcome: "rejected flight" });
    // An answer JSON cannot hold is refused as such, before any comparison.
    await expect(h.client.threads.resume(threadId, 10n, { idempotencyKey: "click-1" })).rejects.toMatchObject(
      {
        code: "INVALID_INPUT",
      },
    );
    // Once its run has finished, the same refusal (not the thread's NotInterruptedError).
    await expect(
      h.client.threads.resume(threadId, "yes", { idempotencyKey: "click-1" }),
    ).rejects.toMatchObject({
      code: "IDEMPOTENCY_KEY_REUSED",
    });
  });

  it("with the same answer, given alone or by interrupt id, returns the first run", async () => {
    const { threadId, result } = await parkedApproval(h, "hotel");
    const interruptId = result.interrupts[0]?.id as string;
    const first = await h.client.threads.resume(threadId, "yes", { idempotencyKey: "click-2" });
    expect(await h.client.threads.resume(threadId, "yes", { idempotencyKey: "click-2" })).toEqual(first);
    expect(
      await h.client.threads.resume(threadId, { [interruptId]: "yes" }, { idempotencyKey: "click-2" }),
    ).toEqual(first);
    await h.client.runs.wait(first.runId);
    expect(await h.client.threads.resume(threadId, "yes", { idempotencyKey: "click-2" })).toEqual(first);
  });

  it("with another update or run options is refused", async () => {
    const { threadId } = await parkedApproval(h, "car");
    const first = await h.client.threads.resume(threadId, "yes", {
      idempotencyKey: "click-3",
      update: { item: "car, economy" },
    });
    await expect(
      h.client.threads.resume(threadId, "yes", {
        idempotencyKey: "click-3",
        update: { item: "car, luxury" },
      }),
    ).rejects.toMatchObject({ code: "IDEMPOTENCY_KEY_REUSED", differs: ["update"] });
    await expect(
      h.client.threads.resume(threadId, "yes", {
        idempotencyKey: "click-3",
        update: { item: "car, economy" },
        durability: "sync",
      }),
    ).rejects.toMatchObject({ code: "IDEMPOTENCY_KEY_REUSED", differs: ["options"] });
    expect((await h.client.runs.wait(first.runId)).values).toMatchObject({ item: "car, economy" });
  });

  it("of two racing first calls with one key and different answers, one wins and the other is refused", async () => {
    for (let trial = 0; trial < 10; trial++) {
      const { threadId } = await parkedApproval(h, `race ${trial}`);
      const calls = await Promise.allSettled([
        h.client.threads.resume(threadId, "yes", { idempotencyKey: "race" }),
        h.client.threads.resume(threadId, "no", { idempotencyKey: "race" }),
      ]);
      const won = calls.filter((c) => c.status === "fulfilled");
      const lost = calls.filter((c): c is PromiseRejectedResult => c.status === "rejected");
      expect(won).toHaveLength(1);
      expect(lost).toHaveLength(1);
      expect(lost[0]?.reason).toMatchObject({ code: "IDEMPOTENCY_KEY_REUSED", differs: ["answer"] });
    }
  });
});
