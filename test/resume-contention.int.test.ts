// Resumes and starts racing each other: two clicks on one approval, retries with an idempotency
// key, against real Postgres, Redis and BullMQ.
import { isLayoverError } from "@layover/graph";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { anotherClient, createHarness, type Harness, parkedApproval } from "./support/harness.ts";

let h: Harness;

beforeAll(async () => {
  h = await createHarness("contention");
  await h.startWorker({ id: "worker-a" });
}, 60_000);
afterAll(async () => {
  await h?.close();
});

const parked = (item: string, twice = false) => parkedApproval(h, item, twice);

describe("resumes under contention", () => {
  it("of two concurrent resumes of one interrupt, exactly one wins — 100 trials", async () => {
    const threads = await Promise.all(Array.from({ length: 100 }, (_, i) => parked(`race-${i}`)));
    const outcomes = await Promise.all(
      threads.map(({ threadId }) =>
        Promise.allSettled([
          h.client.threads.resume(threadId, "yes", { resolvedBy: "alice" }),
          h.client.threads.resume(threadId, "no", { resolvedBy: "bob" }),
        ]),
      ),
    );
    for (const pair of outcomes) {
      const won = pair.filter((o) => o.status === "fulfilled");
      const lost = pair.filter((o) => o.status === "rejected");
      expect(won).toHaveLength(1);
      expect(lost).toHaveLength(1);
      const reason = (lost[0] as PromiseRejectedResult).reason;
      expect(isLayoverError(reason, "INTERRUPT_ALREADY_RESOLVED")).toBe(true);
      expect(reason.message).toMatch(/already resolved by (alice|bob) at/);
    }
    const { rows } = await h.pool.query(
      `SELECT thread_id, count(*)::int AS n FROM "${h.schema}".runs WHERE kind = 'resume' AND thread_id = ANY($1)
        GROUP BY thread_id`,
      [threads.map((t) => t.threadId)],
    );
    expect(rows).toHaveLength(100);
    expect(rows.every((r) => r.n === 1)).toBe(true);
  }, 60_000);

  it("returns the first run for a retried resume with the same idempotency key", async () => {
    const { threadId } = await parked("train");
    const first = await h.client.threads.resume(threadId, "yes", { idempotencyKey: "click-1" });
    const again = await h.client.threads.resume(threadId, "yes", { idempotencyKey: "click-1" });
    expect(again.runId).toBe(first.runId);
    expect((await h.client.runs.wait(first.runId)).status).toBe("success");
    const late = await h.client.threads.resume(threadId, "yes", { idempotencyKey: "click-1" });
    expect(late.runId).toBe(first.runId);
    await expect(
      h.client.threads.resume(threadId, "yes", { idempotencyKey: "click-2" }),
    ).rejects.toMatchObject({
      code: "INTERRUPT_ALREADY_RESOLVED",
    });
  });

  it("gives two calls with one idempotency key, racing, the same run — 40 trials", async () => {
    // Two clients, as two replicas of a web app retrying one request.
    const other = anotherClient(h);
    const refusals: string[] = [];
    try {
      for (let trial = 0; trial < 40; trial++) {
        const { threadId } = await parked(`double submit ${trial}`);
        const key = `submit-${threadId}`;
        const results = await Promise.allSettled([
          h.client.threads.resume(threadId, "yes", { idempotencyKey: key }),
          other.threads.resume(threadId, "yes", { idempotencyKey: key }),
        ]);
        for (const r of results) if (r.status === "rejected") refusals.push(String(r.reason));
        const ids = results.flatMap((r) => (r.status === "fulfilled" ? [r.value.runId] : []));
        if (ids.length === 2) expect(ids[0]).toBe(ids[1]);
      }
    } finally {
      await other.close();
    }
    expect(refusals).toEqual([]);
  }, 60_000);

  it("returns the first run for a retried start with the same idempotency key, and starts nothing", async () => {
    const first = await h.client.runs.start({
      graphId: "linear",
      input: { count: 1 },
      idempotencyKey: "order-7",
    });
    const again = await h.client.runs.start({
      graphId: "linear",
      input: { count: 1 },
      threadId: first.threadId,
      idempotencyKey: "order-7",
    });
    expect(again).toEqual(first);
    expect((await h.client.runs.wait(first.runId)).values).toMatchObject({ count: 11 });
    expect(await h.client.threads.runs(first.threadId)).toHaveLength(1);
  });
});
