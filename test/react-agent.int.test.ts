// An agent made by createReactAgent (LangGraph's prebuilt factory), served by workers: it parks
// before its tools run (interruptBefore: ["tools"]), and a person's go-ahead from another process
// runs the booking and lets the model report it.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { anotherClient, createHarness, type Harness } from "./support/harness.ts";

let h: Harness;

beforeAll(async () => {
  h = await createHarness("react_agent");
  await h.startWorker({ id: "agent-a", budget: { steps: 1, ms: 1_000 } });
  await h.startWorker({ id: "agent-b", budget: { steps: 1, ms: 1_000 } });
}, 60_000);
afterAll(async () => {
  await h?.close();
});

type Shown = {
  getType?: () => string;
  type?: string;
  content: unknown;
  name?: string;
  tool_calls?: unknown[];
};

/** The messages' types, names, contents and tool calls as the run left them. */
function transcript(values: unknown) {
  return (values as { messages: Shown[] }).messages.map((m) => [
    m.getType?.() ?? String(m.type),
    m.name ?? null,
    m.content,
    (m.tool_calls ?? []).length,
  ]);
}

describe("a createReactAgent agent on workers", () => {
  it("parks before the tools with the model's call; a go-ahead from another process books and finishes", async () => {
    const { runId, threadId } = await h.client.runs.start({
      graphId: "react-agent",
      input: { messages: [{ role: "user", content: "book LH400" }] },
    });
    const parked = await h.client.runs.wait(runId, { timeoutMs: 20_000 });
    expect(parked).toMatchObject({ status: "interrupted", interrupts: [] });
    expect(transcript(parked.values)).toEqual([
      ["human", null, "book LH400", 0],
      ["ai", "booking_agent", "", 1],
    ]);
    expect((await h.client.threads.get(threadId)).next).toEqual(["tools"]);

    const approver = anotherClient(h);
    try {
      const { runId: continued } = await approver.threads.continue(threadId);
      const done = await approver.runs.wait(continued, { timeoutMs: 20_000 });
      expect(done.status).toBe("success");
      expect(transcript(done.values).slice(2)).toEqual([
        ["tool", "book_flight", "Booked LH400.", 0],
        ["ai", "booking_agent", "Done: Booked LH400.", 0],
      ]);
      expect((await approver.threads.get(threadId)).next).toEqual([]);
    } finally {
      await approver.close();
    }
  });
});
