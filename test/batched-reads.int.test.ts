// Reads asked at the same time (a producer's waits, a worker's jobs) share one statement: each
// caller must still get its own row, and the shared statement must not be planned on every call.
import { randomUUID } from "node:crypto";
import { createDb, RunNotFoundError, readJobRun } from "@layover/runtime";
import type pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createHarness, type Harness } from "./support/harness.ts";

let h: Harness;

beforeAll(async () => {
  h = await createHarness("batched_reads");
  await h.startWorker({ id: "worker-a" });
}, 60_000);
afterAll(async () => {
  await h?.close();
});

const ITEMS = Array.from({ length: 12 }, (_, i) => `item ${i}`);
const answer = (i: number) => (i % 2 ? "no" : "yes");

describe("batched reads", () => {
  it("waits and run reads asked at once each get their own run, values and interrupts", async () => {
    const started = await Promise.all(
      ITEMS.map((item) => h.client.runs.start({ graphId: "approval", input: { item, twice: false } })),
    );
    const parked = await Promise.all(
      started.map(({ runId }) => h.client.runs.wait(runId, { timeoutMs: 20_000 })),
    );
    parked.forEach((result, i) => {
      expect(result).toMatchObject({
        runId: started[i]?.runId,
        threadId: started[i]?.threadId,
        status: "interrupted",
      });
      expect(result.values).toMatchObject({ item: ITEMS[i], outcome: `prepared ${ITEMS[i]}` });
      expect(result.interrupts).toEqual([
        expect.objectContaining({ value: { question: `approve ${ITEMS[i]}?` } }),
      ]);
    });
    const unknown = randomUUID();
    const read = await Promise.allSettled(
      [unknown, ...started.map((s) => s.runId)].map((id) => h.client.runs.get(id)),
    );
    expect(read[0]).toMatchObject({ status: "rejected", reason: expect.any(RunNotFoundError) });
    read.slice(1).forEach((outcome, i) => {
      expect(outcome).toMatchObject({ status: "fulfilled", value: { runId: started[i]?.runId } });
    });

    const resumed = await Promise.all(
      started.map(({ threadId }, i) => h.client.threads.resume(threadId, answer(i))),
    );
    const done = await Promise.all(
      resumed.map(({ runId }) => h.client.runs.wait(runId, { timeoutMs: 20_000 })),
    );
    done.forEach((result, i) => {
      expect(result.status).toBe("success");
      expect(result.values).toMatchObject({
        outcome: `${i % 2 ? "rejected" : "approved"} ${ITEMS[i]}`,
        answers: [answer(i)],
      });
    });
  });

  it("a run id in upper case is the same run (Postgres answers in lower case)", async () => {
    const { runId } = await h.client.runs.start({
      graphId: "approval",
      input: { item: "case", twice: false },
    });
    await h.client.runs.wait(runId.toUpperCase(), { timeoutMs: 20_000 });
    expect((await h.client.runs.get(runId.toUpperCase())).runId).toBe(runId);
  });

  it("a batched read of runs is planned once per connection, not on every call", async () => {
    const started = await Promise.all(
      ITEMS.slice(0, 5).map((item) =>
        h.client.runs.start({ graphId: "approval", input: { item, twice: false } }),
      ),
    );
    const client = await h.pool.connect();
    try {
      const db = createDb(client as unknown as pg.Pool, h.schema);
      for (let i = 0; i < 8; i++) {
        const ids = started.slice(0, 1 + (i % 5)).map((s) => s.runId);
        const runs = await Promise.all(ids.map((id) => readJobRun(db, id)));
        expect(runs.map((run) => run?.id)).toEqual(ids);
      }
      const { rows } = await client.query(
        "SELECT generic_plans, custom_plans FROM pg_prepared_statements WHERE name LIKE 'layover_runtime_job_runs%'",
      );
      // Postgres tries five custom plans, then keeps the generic one when it costs no more.
      expect(rows).toEqual([{ generic_plans: expect.any(String), custom_plans: "5" }]);
      expect(Number(rows[0].generic_plans)).toBeGreaterThan(0);
    } finally {
      client.release();
    }
  });
});
