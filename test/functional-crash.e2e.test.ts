// A worker process SIGKILLed after an entrypoint's task finished, while a later task runs: the
// next worker gives the finished task's result back (it was stored as the task finished), so
// the card is charged once.
import { randomUUID } from "node:crypto";
import { existsSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, expect, it } from "vitest";
import { createHarness, type Harness } from "./support/harness.ts";
import { until } from "./support/until.ts";

let h: Harness;
beforeAll(async () => {
  h = await createHarness("functional_crash");
}, 60_000);
afterAll(async () => {
  await h?.close();
});

async function storedResults(): Promise<number> {
  const { rows } = await h.pool.query(
    `SELECT count(*)::int AS n FROM "${h.schema}".checkpoint_writes WHERE channel = '__return__'`,
  );
  return rows[0].n as number;
}

const charges = (file: string) =>
  existsSync(file) ? readFileSync(file, "utf8").split("\n").filter(Boolean).length : 0;

it("a task that finished before the worker died is not run again", async () => {
  const victim = await h.spawnWorker("crash-victim", { LAYOVER_TEST_HANG_SHIP: "1" });
  const file = join(tmpdir(), `layover-charges-${randomUUID()}`);
  const { runId } = await h.client.runs.start({ graphId: "charge-and-ship", input: { file, amount: 100 } });
  // Killed once the charge's result is stored (durability "async" stores it beside the next task;
  // a crash before that would charge again, as in LangGraph).
  await until(async () => charges(file) === 1 && (await storedResults()) === 1, 20_000, "charge stored");
  victim.kill("SIGKILL");
  await h.spawnWorker("crash-rescuer"); // its stalled-job check (every second) recovers the run
  const done = await h.client.runs.wait(runId, { timeoutMs: 30_000 });
  expect([done.status, done.values]).toEqual(["success", { receipt: { charged: 100 }, shipping: "shipped" }]);
  expect(charges(file)).toBe(1);
}, 60_000);
