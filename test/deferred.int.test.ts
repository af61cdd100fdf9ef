// A deferred node on workers: it runs once, after the longer branch, across jobs; a producer
// without the graph's code lists a paused thread's next tasks as the engine does (not the node
// still waiting).
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createHarness, type Harness } from "./support/harness.ts";

let h: Harness;

beforeAll(async () => {
  h = await createHarness("deferred");
  await h.startWorker({ id: "defer-a", budget: { steps: 1, ms: 1_000 } });
}, 60_000);
afterAll(async () => {
  await h?.close();
});

describe("a deferred node on workers", () => {
  it("waits for the longer branch and runs once, one superstep per job", async () => {
    const { runId } = await h.client.runs.start({ graphId: "deferred-reduce", input: { aggregate: [] } });
    const done = await h.client.runs.wait(runId, { timeoutMs: 20_000 });
    expect(done.values).toEqual({ aggregate: ["a", "b", "c", "b_2", "d"] });
  });

  it("at a breakpoint before the longer branch's last node, threads.get lists it and not the waiting node", async () => {
    const { runId, threadId } = await h.client.runs.start({
      graphId: "deferred-reduce",
      input: { aggregate: [] },
      config: { interruptBefore: ["b_2"] },
    });
    expect(await h.client.runs.wait(runId, { timeoutMs: 20_000 })).toMatchObject({ status: "interrupted" });
    const paused = await h.client.threads.get(threadId);
    expect([paused.next, paused.values]).toEqual([["b_2"], { aggregate: ["a", "b", "c"] }]);
    const { runId: continued } = await h.client.threads.continue(threadId);
    const done = await h.client.runs.wait(continued, { timeoutMs: 20_000 });
    expect(done.values).toEqual({ aggregate: ["a", "b", "c", "b_2", "d"] });
  });
});
