// A graph module's callbacks: a worker hands them to the graph's nodes, so the chat models they
// call report to them (token and cost accounting, a LangSmith tracer), as in-process.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { chatAgent } from "./fixtures/narrated.ts";
import { createHarness, type Harness } from "./support/harness.ts";

let h: Harness;
const answered: string[] = [];
const tally = {
  name: "tally",
  handleLLMEnd(
    output: { generations: { text: string }[][] },
    _runId: string,
    _parent: unknown,
    _tags: unknown,
  ) {
    answered.push(output.generations[0]?.[0]?.text ?? "");
  },
};

beforeAll(async () => {
  h = await createHarness("worker_callbacks");
  await h.startWorker({
    id: "tallying",
    graphs: { "tallied-agent": { graph: chatAgent, callbacks: [tally] } },
  });
}, 60_000);
afterAll(async () => {
  await h?.close();
});

describe("a graph module entry's callbacks", () => {
  it("hear the models the graph's nodes call on the worker, across a park and its resume", async () => {
    const { runId, threadId } = await h.client.runs.start({
      graphId: "tallied-agent",
      input: { messages: [{ role: "user", content: "book it" }] },
    });
    expect(await h.client.runs.wait(runId, { timeoutMs: 20_000 })).toMatchObject({ status: "interrupted" });
    expect(answered).toEqual(["Booked LO 123"]);
    const resumed = await h.client.threads.resume(threadId, "yes");
    expect(await h.client.runs.wait(resumed.runId, { timeoutMs: 20_000 })).toMatchObject({
      status: "success",
    });
    expect(answered).toEqual(["Booked LO 123", "Sent"]);

    // The same graph served without callbacks reports to nobody.
    const plain = await h.client.runs.start({ graphId: "chat-agent", input: { messages: [] } });
    await h.client.runs.wait(plain.runId, { timeoutMs: 20_000 });
    expect(answered).toHaveLength(2);
  });
});
