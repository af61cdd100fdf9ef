// Durability "exit" through the whole path: a job stores one checkpoint, not one per superstep.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createHarness, type Harness } from "./support/harness.ts";

let h: Harness;

beforeAll(async () => {
  h = await createHarness("durability");
  // Three supersteps per job at most: the ten-step linear graph takes four jobs.
  await h.startWorker({ id: "worker-durability", budget: { steps: 3, ms: 60_000 } });
}, 60_000);
afterAll(async () => {
  await h?.close();
});

async function steps(threadId: string): Promise<number[]> {
  const stored: number[] = [];
  for await (const checkpoint of h.client.threads.history(threadId)) stored.push(checkpoint.metadata.step);
  return stored.reverse();
}

describe("durability", () => {
  it('a run started with durability "exit" stores a checkpoint per job, with the same result', async () => {
    const sync = await h.client.runs.start({ graphId: "linear", input: {} });
    const exit = await h.client.runs.start({ graphId: "linear", input: {}, config: { durability: "exit" } });
    const [syncResult, exitResult] = await Promise.all([
      h.client.runs.wait(sync.runId),
      h.client.runs.wait(exit.runId),
    ]);
    expect(exitResult).toMatchObject({ status: "success", values: { count: 10 } });
    expect(exitResult.values).toEqual(syncResult.values);
    expect(await steps(sync.threadId)).toEqual([-1, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    // The input, then where each job handed the thread over (after 3, 6 and 9 supersteps), then the end.
    expect(await steps(exit.threadId)).toEqual([-1, 2, 5, 8, 9]);
    const [syncRun, exitRun] = await Promise.all([
      h.client.runs.get(sync.runId),
      h.client.runs.get(exit.runId),
    ]);
    // Each superstep counted once, also where a job recorded its progress with its checkpoints.
    expect(syncRun.steps).toBe(10);
    expect(exitRun.steps).toBe(syncRun.steps);
  });

  it("a graph's durability in the worker module applies to its runs", async () => {
    const { runId, threadId } = await h.client.runs.start({ graphId: "linear-exit", input: {} });
    expect(await h.client.runs.wait(runId)).toMatchObject({ status: "success", values: { count: 10 } });
    expect(await steps(threadId)).toEqual([-1, 2, 5, 8, 9]);
  });

  it("LangGraph's older checkpointDuring: false at start is durability exit", async () => {
    const { runId, threadId } = await h.client.runs.start({
      graphId: "linear",
      input: {},
      config: { checkpointDuring: false },
    });
    expect(await h.client.runs.wait(runId)).toMatchObject({ status: "success", values: { count: 10 } });
    expect(await steps(threadId)).toEqual([-1, 2, 5, 8, 9]);
  });

  it("a run that parks stores the paused head; a resume sets its own durability", async () => {
    const park = async (item: string) => {
      const started = await h.client.runs.start({
        graphId: "approval",
        input: { item },
        config: { durability: "exit" },
      });
      expect((await h.client.runs.wait(started.runId)).status).toBe("interrupted");
      expect((await h.client.threads.get(started.threadId)).next).toEqual(["review"]);
      // The input, then the head the run paused at (after the prepare node).
      expect(await steps(started.threadId)).toEqual([-1, 0]);
      return started.threadId;
    };
    const [exit, sync] = [await park("car"), await park("boat")];
    const bad = h.client.threads.resume(exit, "yes", { durability: "soon" as "exit" });
    await expect(bad).rejects.toMatchObject({ code: "INVALID_INPUT" });
    expect((await h.client.threads.get(exit)).status).toBe("interrupted");
    for (const [threadId, durability] of [
      [exit, "exit"],
      [sync, "sync"],
    ] as const) {
      const resumed = await h.client.threads.resume(threadId, "yes", { durability });
      expect(await h.client.runs.wait(resumed.runId)).toMatchObject({
        status: "success",
        values: { acted: true },
      });
    }
    // review then act: "exit" stores only the end; "sync" each superstep.
    expect(await steps(exit)).toEqual([-1, 0, 2]);
    expect(await steps(sync)).toEqual([-1, 0, 1, 2]);
  });

  it("refuses a config it cannot run — an unknown durability, a recursion limit of 0 — writing nothing", async () => {
    const runs = async () =>
      (await h.pool.query(`SELECT count(*)::int AS n FROM "${h.schema}".runs`)).rows[0].n as number;
    const before = await runs();
    const start = (config: Record<string, unknown>) =>
      h.client.runs.start({ graphId: "linear", input: {}, config: config as { durability: "exit" } });
    await expect(start({ durability: "later" })).rejects.toMatchObject({
      code: "INVALID_INPUT",
      message: expect.stringContaining('"sync", "async" or "exit"'),
    });
    await expect(start({ recursionLimit: 0 })).rejects.toMatchObject({
      code: "INVALID_INPUT",
      message: expect.stringContaining("recursionLimit must be a whole number above 0"),
    });
    expect(await runs()).toBe(before);
  });
});
