// Workers whose jobs run one superstep each (an LLM-bound agent's, whose nodes outlast the
// in-process budget): each job starts from the head the job before it stored.
import { afterAll, beforeAll, expect, it } from "vitest";
import { createHarness, type Harness } from "./support/harness.ts";

let h: Harness;

beforeAll(async () => {
  h = await createHarness("one_step_jobs");
  await h.startWorker({ id: "worker-one-step", budget: { steps: 1, ms: 60_000 } });
}, 60_000);
afterAll(async () => {
  await h?.close();
});

it("parks a run whose question comes in a job of its own, and resumes it", async () => {
  const { runId, threadId } = await h.client.runs.start({ graphId: "approval", input: { item: "kayak" } });
  const parked = await h.client.runs.wait(runId);
  expect(parked).toMatchObject({ status: "interrupted", values: { outcome: "prepared kayak" } });
  expect(parked.interrupts.map((i) => i.value)).toEqual([{ question: "approve kayak?" }]);
  const thread = await h.client.threads.get(threadId);
  expect(thread.next).toEqual(["review"]);
  const resumed = await h.client.threads.resume(threadId, "yes");
  expect(await h.client.runs.wait(resumed.runId)).toMatchObject({
    status: "success",
    values: { outcome: "approved kayak", acted: true },
  });
});

it("runs a ten-step graph as ten jobs, each superstep stored once and counted once", async () => {
  const { runId, threadId } = await h.client.runs.start({ graphId: "linear", input: {} });
  expect(await h.client.runs.wait(runId)).toMatchObject({ status: "success", values: { count: 10 } });
  const steps: number[] = [];
  for await (const checkpoint of h.client.threads.history(threadId)) steps.push(checkpoint.metadata.step);
  expect(steps.reverse()).toEqual([-1, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
  expect((await h.client.runs.get(runId)).steps).toBe(10);
});

it.each([
  ["before the second node", "gated"],
  ["after the first node", "gated-after"],
])("counts each superstep once around a static breakpoint %s", async (_, graphId) => {
  const { runId, threadId } = await h.client.runs.start({ graphId, input: { count: 1 } });
  expect(await h.client.runs.wait(runId)).toMatchObject({ status: "interrupted", values: { count: 2 } });
  const continued = await h.client.threads.continue(threadId);
  expect(await h.client.runs.wait(continued.runId)).toMatchObject({
    status: "success",
    values: { count: 20 },
  });
  expect((await h.client.runs.get(runId)).steps).toBe(1);
  expect((await h.client.runs.get(continued.runId)).steps).toBe(1);
});
