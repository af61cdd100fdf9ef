// A graph with input and output schemas served by workers: producers check a start's input
// against the input schema (without the graph's code), and a run keeps every key in its state.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createHarness, type Harness } from "./support/harness.ts";

let h: Harness;

beforeAll(async () => {
  h = await createHarness("io_schemas");
  await h.startWorker({ id: "io-a", budget: { steps: 1, ms: 1_000 } });
}, 60_000);
afterAll(async () => {
  await h?.close();
});

describe("input and output schemas on workers", () => {
  it("refuses a start whose input holds a key outside the input schema, writing nothing", async () => {
    await expect(
      h.client.runs.start({ graphId: "question-answer", input: { question: "q", answer: "forged" } }),
    ).rejects.toMatchObject({ code: "INVALID_INPUT" });
  });

  it("runs with the private notes between its nodes, parks, and ends with every key in its state", async () => {
    const { runId, threadId } = await h.client.runs.start({
      graphId: "question-answer",
      input: { question: "owls" },
    });
    expect(await h.client.runs.wait(runId, { timeoutMs: 20_000 })).toMatchObject({
      status: "interrupted",
      values: { question: "owls", notes: "notes on owls" },
    });
    const resumed = await h.client.threads.resume(threadId, "yes");
    const done = await h.client.runs.wait(resumed.runId, { timeoutMs: 20_000 });
    expect(done.values).toEqual({ question: "owls", notes: "notes on owls", answer: "notes on owls (yes)" });
  });

  it("continues as a node with an update of a key outside the input schema (the node's output): updateState takes it", async () => {
    // LangGraph.js 1.7.3: updateState(config, { answer }, "write") then invoke(null) at
    // interruptBefore: ["write"] ends with the answer, write never running. A node writes any
    // state key; the input schema only says what a start may give.
    const { runId, threadId } = await h.client.runs.start({
      graphId: "question-answer",
      input: { question: "owls" },
      config: { interruptBefore: ["write"] },
    });
    expect(await h.client.runs.wait(runId, { timeoutMs: 20_000 })).toMatchObject({ status: "interrupted" });
    expect((await h.client.threads.get(threadId)).next).toEqual(["write"]);
    const { runId: continued } = await h.client.threads.continue(threadId, {
      update: { answer: "written by hand" },
      asNode: "write",
    });
    const done = await h.client.runs.wait(continued, { timeoutMs: 20_000 });
    expect(done).toMatchObject({
      status: "success",
      values: { question: "owls", answer: "written by hand" },
    });
  });
});
