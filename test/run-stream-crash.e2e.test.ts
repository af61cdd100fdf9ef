// runs.stream across a worker SIGKILLed mid-run: another worker process takes the job over and
// goes on from the last stored superstep; the stream carries on (each node at least once, never
// out of order) and ends with the run's result.
import type { ChildProcess } from "node:child_process";
import type { RunStreamPart } from "@layover/runtime";
import { afterAll, beforeAll, expect, it } from "vitest";
import { createHarness, type Harness } from "./support/harness.ts";

let h: Harness;
let workers: Map<string, ChildProcess>;

beforeAll(async () => {
  h = await createHarness("run_stream_crash");
  workers = new Map(
    // One job runs the whole chain: the worker that marked the run running is the one running it.
    await Promise.all(
      ["sa", "sb"].map(async (id) => [id, await h.spawnWorker(id, { STEP_BUDGET_MS: "60000" })] as const),
    ),
  );
}, 60_000);
afterAll(async () => {
  await h?.close();
});

it("a stream outlives the worker running its run: another goes on from the last stored superstep, every node reports, in order, then the end", async () => {
  const { runId } = await h.client.runs.start({
    graphId: "slow-chain",
    input: { delayMs: 600 },
    config: { streamMode: "updates" },
  });
  const parts: RunStreamPart[] = [];
  let killedId: string | undefined;
  for await (const part of h.client.runs.stream(runId, { timeoutMs: 60_000 })) {
    parts.push(part);
    if (parts.length !== 2) continue;
    // Two nodes done, the third under way: kill the worker running it.
    const { rows } = await h.pool.query(`SELECT last_worker FROM "${h.schema}".runs WHERE id = $1`, [runId]);
    killedId = rows[0].last_worker;
    workers.get(killedId as string)?.kill("SIGKILL");
  }
  const nodes = parts.filter((p) => p.event === "updates").map((p) => Object.keys(p.data as object)[0]);
  // Each node reports at least once, in the chain's order: a redone superstep repeats a node, never goes back past it.
  expect([...new Set(nodes)]).toEqual(["s0", "s1", "s2", "s3", "s4"]);
  expect(nodes).toEqual([...nodes].sort());
  expect(parts.at(-1)).toMatchObject({
    event: "end",
    data: { status: "success", values: { count: 5, trail: ["s0", "s1", "s2", "s3", "s4"] } },
  });
  const { rows } = await h.pool.query(`SELECT finished_by FROM "${h.schema}".runs WHERE id = $1`, [runId]);
  expect(killedId).toMatch(/^s[ab]$/);
  expect(rows[0].finished_by).toBe(killedId === "sa" ? "sb" : "sa");
}, 90_000);
