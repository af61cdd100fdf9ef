// runs.stream across a worker frozen past its job's lock and thawed while the worker that took
// the job over is behind it, in the same node. Postgres keeps each superstep committed once, by
// whichever commits first; here the thawed one would (its node's timer, due while it was
// frozen, fires at once on thaw; the taker's s1 takes 1.5 s), and its run would go on with every
// chunk fenced out of the stream by the lock it lost (before lock-fence.ts: `s0 s1`, then the
// end from Postgres 20 s later, 2 runs in 2). A job that stood still past half its lock reads
// the lock before it commits, and leaves the run to the worker that holds it.
import type { ChildProcess } from "node:child_process";
import { createInterface } from "node:readline";
import { afterAll, beforeAll, expect, it } from "vitest";
import { createHarness, type Harness } from "./support/harness.ts";

let h: Harness;
let zombie: ChildProcess | undefined;

beforeAll(async () => {
  h = await createHarness("run_stream_thawed_ahead");
}, 60_000);
afterAll(async () => {
  zombie?.kill("SIGCONT");
  await h?.close();
});

/** A "tasks" part that starts a task: it carries the task's input, and no result. */
const taskStart = (data: unknown) =>
  typeof data === "object" && data !== null && "input" in data && !("result" in data);

/** The workers' log messages, for a failure's message: who committed, who stood down. */
function keepLogs(worker: ChildProcess, who: string, logs: string[]): void {
  if (worker.stdout === null) return;
  createInterface({ input: worker.stdout }).on("line", (line) => {
    try {
      logs.push(`${who}: ${(JSON.parse(line) as { msg?: string }).msg}`);
    } catch {
      logs.push(`${who}: ${line}`);
    }
  });
}

/** When Redis appended a stream part (its id's milliseconds): parts read late were appended before. */
const appendedAt = (id: string) => Number(id.split("-")[0]);

it("a worker thawed ahead of the one that took its job over leaves the run to it: the stream shows every node", async () => {
  zombie = await h.spawnWorker("ta", { STEP_BUDGET_MS: "60000" });
  const logs: string[] = [];
  keepLogs(zombie, "first", logs);
  const { runId } = await h.client.runs.start({
    graphId: "slow-chain",
    input: { delayMs: 1500 },
    // Each superstep stored as it ends: whichever worker finishes s1 first commits it.
    config: { streamMode: ["updates", "tasks"], durability: "sync" },
  });
  const nodes: string[] = [];
  let [frozen, thawed, frozenAt] = [false, false, 0];
  for await (const part of h.client.runs.stream(runId, { timeoutMs: 60_000 })) {
    if (part.event === "updates") nodes.push(Object.keys(part.data as object)[0] as string);
    if (nodes.length === 1 && !frozen) {
      // s0 stored and reported; s1 has 500 ms left when its worker freezes past its lock (2 s).
      frozen = true;
      await new Promise((resolve) => setTimeout(resolve, 1000));
      zombie.kill("SIGSTOP");
      frozenAt = Date.now();
      keepLogs(await h.spawnWorker("tb", { STEP_BUDGET_MS: "60000" }), "second", logs);
    } else if (
      !thawed &&
      part.event === "tasks" &&
      taskStart(part.data) &&
      appendedAt(part.id) > frozenAt &&
      frozen
    ) {
      // The other worker took the job over and starts s1 (1.5 s): thaw the first, ahead of it.
      thawed = true;
      zombie.kill("SIGCONT");
    }
  }
  expect((await h.client.runs.get(runId))?.status).toBe("success");
  expect(thawed).toBe(true);
  expect(new Set(nodes), logs.join("\n")).toEqual(new Set(["s0", "s1", "s2", "s3", "s4"]));
  // In order, at least once: a node may repeat, never come after a later one.
  expect(nodes).toEqual([...nodes].sort());
  // The thawed worker stood down at its commit (had the other committed first, it would have lost the race as before).
  expect(logs).toContain("first: job lost its lock; left to the worker that holds it");
}, 90_000);
