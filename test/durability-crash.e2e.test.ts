// Durability across real worker processes: a worker SIGKILLed while it holds unstored
// supersteps loses only those; another worker runs them again from the last stored checkpoint.
// Under "exit" a job stores only its last superstep; under the default ("async") workers store
// each superstep while the next one runs, so every superstep ends up stored, once.
import type { ChildProcess } from "node:child_process";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { checkpointCounts, checkpointForks, createHarness, type Harness } from "./support/harness.ts";

const RUNS = 24;
const NODES = ["s0", "s1", "s2", "s3", "s4"];
let h: Harness;
let workers: ChildProcess[];

beforeAll(async () => {
  h = await createHarness("durability_crash");
  workers = await Promise.all(["d1", "d2"].map((id) => h.spawnWorker(id)));
}, 60_000);
afterAll(async () => {
  await h?.close();
});

async function runningOn(worker: string): Promise<number> {
  const { rows } = await h.pool.query(
    `SELECT count(*)::int AS n FROM "${h.schema}".runs WHERE status = 'running' AND last_worker = $1`,
    [worker],
  );
  return rows[0].n;
}

/** Starts RUNS slow chains on `graphId`, SIGKILLs `victim` once it runs 3 of them; all finish. */
async function killMidRuns(graphId: string, victim: ChildProcess, victimId: string) {
  // 5 nodes of 80 ms: a job runs ~4 of them (the workers' 250 ms budget).
  const started = await Promise.all(
    Array.from({ length: RUNS }, () => h.client.runs.start({ graphId, input: { delayMs: 80 } })),
  );
  const deadline = Date.now() + 20_000;
  while ((await runningOn(victimId)) < 3) {
    if (Date.now() > deadline) throw new Error(`worker ${victimId} never ran 3 runs at once`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  // Let the victim get into its runs' supersteps, then kill it.
  await new Promise((resolve) => setTimeout(resolve, 120));
  victim.kill("SIGKILL");
  const orphaned = await runningOn(victimId);

  const results = await Promise.all(started.map((s) => h.client.runs.wait(s.runId, { timeoutMs: 60_000 })));
  for (const result of results) {
    expect(result).toMatchObject({ status: "success", values: { count: 5, trail: NODES } });
  }
  expect(orphaned).toBeGreaterThan(0);
  const { rows } = await h.pool.query(
    `SELECT count(*)::int AS n FROM "${h.schema}".runs WHERE started_by = $1 AND last_worker <> $1`,
    [victimId],
  );
  expect(rows[0].n).toBeGreaterThan(0);
  const threadIds = started.map((s) => s.threadId);
  expect(await checkpointForks(h, threadIds)).toEqual([]);
  return checkpointCounts(h, threadIds);
}

describe("durability on a fleet", () => {
  it("\"exit\": a SIGKILLed worker's unstored supersteps run again elsewhere; each node's write lands once", async () => {
    const counts = await killMidRuns("slow-chain-exit", workers[1] as ChildProcess, "d2");
    // Fewer checkpoints than supersteps: the input, each job's last, never one per node.
    for (const n of counts.values()) expect(n).toBeLessThan(NODES.length + 1);
  }, 120_000);

  it('the default ("async"): runs a SIGKILLed worker held finish, every superstep stored once', async () => {
    const victim = await h.spawnWorker("a2");
    const counts = await killMidRuns("slow-chain", victim, "a2");
    // The input and one per node, on every thread: none lost, none stored twice.
    expect([...new Set(counts.values())]).toEqual([NODES.length + 1]);
  }, 120_000);
});
