// A node error handler on the runtime, with worker processes: the charge fails on one worker,
// its handler asks a person and the run parks; that worker is killed; another worker takes the
// answer and runs the handler again, not the charge, and its Command routes the saga on.
import { randomUUID } from "node:crypto";
import { existsSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { InvalidResumeError } from "@layover/graph";
import { afterAll, beforeAll, expect, it } from "vitest";
import { createHarness, type Harness } from "./support/harness.ts";

let h: Harness;
beforeAll(async () => {
  h = await createHarness("error_handler");
}, 60_000);
afterAll(async () => {
  await h?.close();
});

/** What ran, in order, as the saga appends it to `file`. */
const ran = (file: string) =>
  existsSync(file) ? readFileSync(file, "utf8").split("\n").filter(Boolean) : [];

it("parks in the handler on one worker; another runs the handler again, not the node, and routes on", async () => {
  const first = await h.spawnWorker("saga-1");
  const file = join(tmpdir(), `layover-saga-${randomUUID()}`);
  const { runId, threadId } = await h.client.runs.start({ graphId: "saga", input: { file, amount: 120 } });
  const parked = await h.client.runs.wait(runId, { timeoutMs: 20_000 });
  expect(parked).toMatchObject({
    status: "interrupted",
    values: { seat: "12A", status: "reserved" },
    interrupts: [
      {
        value: {
          question: "The charge failed: release seat 12A?",
          reason: "card declined for 120",
          code: "DECLINED",
        },
      },
    ],
  });
  expect(ran(file)).toEqual(["charge", "charge", "handler"]);
  // An operator tells the worker's Postgres connections apart from others' (pg_stat_activity).
  const named = await h.pool.query(
    "SELECT count(*)::int AS n FROM pg_stat_activity WHERE application_name = 'layover-worker:saga-1'",
  );
  expect(named.rows[0]?.n).toBeGreaterThan(0);
  const pending = await h.client.interrupts.list({ graphId: "saga", status: "pending" });
  // The handler asks in the failed node's place, as getState shows it in-process.
  expect(pending.interrupts.map((i) => [i.threadId, i.node])).toEqual([[threadId, "charge"]]);
  expect((await h.client.threads.get(threadId)).next).toEqual(["charge"]);

  first.kill("SIGKILL");
  await h.spawnWorker("saga-2");
  // The handler's schema is stored with its question: a wrong answer is refused before anything changes.
  await expect(h.client.threads.resume(threadId, { release: "yes" })).rejects.toThrow(InvalidResumeError);
  const { runId: resumed } = await h.client.threads.resume(threadId, { release: true });
  expect(await h.client.runs.wait(resumed, { timeoutMs: 20_000 })).toMatchObject({
    status: "success",
    values: { seat: "12A released", status: "charge failed (charge)" },
  });
  expect(ran(file)).toEqual(["charge", "charge", "handler", "handler"]);
}, 90_000);
