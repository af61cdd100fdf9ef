// Durability "exit" across real worker processes: a worker SIGKILLed while it holds unstored
// supersteps loses only those; another worker runs them again from the last stored checkpoint.
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

describe('durability "exit" on a fleet', () => {
  it("a SIGKILLed worker's unstored supersteps run again elsewhere; each node's write lands once", async () => {
    // 5 nodes of 80 ms: a job runs ~4 of them (the workers' 250 ms budget), storing only at its end.
    const started = await Promise.all(
      Array.from({ length: RUNS }, () =>
        h.client.runs.start({ graphId: "slow-chain-exit", input: { delayMs: 80 } }),
      ),
    );
    const deadline = Date.now() + 20_000;
    while ((await runningOn("d2")) < 3) {
      if (Date.now() > deadline) throw new Error("worker d2 never ran 3 runs at once");
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    // Let d2 get into its runs' supersteps, none stored yet, then kill it.
    await new Promise((resolve) => setTimeout(resolve, 120));
    workers[1]?.kill("SIGKILL");
    const orphaned = await runningOn("d2");

    const results = await Promise.all(started.map((s) => h.client.runs.wait(s.runId, { timeoutMs: 60_000 })));
    for (const result of results) {
      expect(result).toMatchObject({ status: "success", values: { count: 5, trail: NODES } });
    }
    expect(orphaned).toBeGreaterThan(0);
    const { rows } = await h.pool.query(
      `SELECT count(*)::int AS n FROM "${h.schema}".runs WHERE started_by = 'd2' AND last_worker <> 'd2'`,
    );
    expect(rows[0].n).toBeGreaterThan(0);
    const threadIds = started.map((s) => s.threadId);
    expect(await checkpointForks(h, threadIds)).toEqual([]);
    // Fewer checkpoints than supersteps: the input, each job's last, never one per node.
    const counts = await checkpointCounts(h, threadIds);
    for (const threadId of threadIds) expect(counts.get(threadId)).toBeLessThan(NODES.length + 1);
  }, 120_000);
});
