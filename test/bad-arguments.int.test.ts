// What a careless caller passes the producer client (a cyclic value, a key Postgres cannot hold,
// a null where options go…): a typed error that names the argument, and nothing written.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { countRows, createHarness, type Harness, parkedApproval } from "./support/harness.ts";

let h: Harness;

beforeAll(async () => {
  h = await createHarness("bad_arguments");
  await h.startWorker({ id: "worker-a" });
}, 60_000);
afterAll(async () => {
  await h?.close();
});

const rows = async () => ({
  threads: await countRows(h, "threads"),
  runs: await countRows(h, "runs"),
  crons: await countRows(h, "crons"),
});

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
      ...[42, { key: 1 }, null, "", "a\u0000b", long].map(
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
      ...[42, { key: 1 }, null, "", "a\u0000b", long].map((v) => ["idempotencyKey", v] as const),
      ...[42, { who: 1 }, "", "a\u0000b"].map((v) => ["resolvedBy", v] as const),
    ])
      await expect(h.client.threads.resume(threadId, "yes", { [field]: value })).rejects.toMatchObject({
        code: "INVALID_INPUT",
        message: expect.stringContaining(`${field} must be`),
      });
    expect(await rows()).toEqual(before);
    expect((await h.client.threads.get(threadId)).status).toBe("interrupted");
  });
});
