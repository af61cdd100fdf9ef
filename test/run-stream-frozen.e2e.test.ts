// runs.stream across a worker frozen (SIGSTOP: a long GC pause, a VM its host paused) in the
// middle of a node for longer than its job's lock, then thawed once another worker has taken the
// job over and moved the run on. The README promises the chunks in order across jobs and
// workers: a superstep done again reports again, but nothing comes back from an earlier node
// after a later one. The thawed job goes on (its lock lost, not its process); its appends are
// fenced by the job's BullMQ lock, as its commits are by the thread's head, so its late chunks
// never reach the stream (before the fence: s0 s1 s2 s1 s3 s2 s4, about 3 runs in 5).
import type { ChildProcess } from "node:child_process";
import { afterAll, beforeAll, expect, it } from "vitest";
import { createHarness, type Harness } from "./support/harness.ts";

let h: Harness;
let zombie: ChildProcess | undefined;

beforeAll(async () => {
  h = await createHarness("run_stream_frozen");
}, 60_000);
afterAll(async () => {
  zombie?.kill("SIGCONT");
  await h?.close();
});

it("a thawed worker's late chunks of a node do not come after a later node's", async () => {
  // One job runs the whole chain: the only worker is the one running it.
  zombie = await h.spawnWorker("fa", { STEP_BUDGET_MS: "60000" });
  const { runId } = await h.client.runs.start({
    graphId: "slow-chain",
    input: { delayMs: 1500 },
    config: { streamMode: "updates" },
  });
  const nodes: string[] = [];
  let [frozen, thawed] = [false, false];
  for await (const part of h.client.runs.stream(runId, { timeoutMs: 60_000 })) {
    if (part.event === "updates") nodes.push(Object.keys(part.data as object)[0] as string);
    if (nodes.length === 1 && !frozen) {
      // s0 reported, s1 sleeping: freeze its worker past its lock (2 s); another takes the job over.
      frozen = true;
      zombie.kill("SIGSTOP");
      await h.spawnWorker("fb", { STEP_BUDGET_MS: "60000" });
    }
    if (nodes.length === 3 && !thawed) {
      // The other worker redid s1 and reported s2: thaw the first, whose s1 is still under way.
      thawed = true;
      zombie.kill("SIGCONT");
    }
  }
  expect(new Set(nodes)).toEqual(new Set(["s0", "s1", "s2", "s3", "s4"]));
  // In order, at least once: a node may repeat, never come after a later one.
  expect(nodes).toEqual([...nodes].sort());
}, 90_000);
