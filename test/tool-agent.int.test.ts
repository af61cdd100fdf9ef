// An agent made of LangGraph's prebuilt ToolNode and toolsCondition, served by workers: its
// booking tool asks a person (an agent inbox's HumanInterrupt), the run parks inside the tools
// node, and an answer from another process edits, accepts or declines the booking.
import { InvalidResumeError } from "@layover/graph";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { anotherClient, createHarness, type Harness } from "./support/harness.ts";

let h: Harness;

beforeAll(async () => {
  h = await createHarness("tool_agent");
  await h.startWorker({ id: "agent-a", budget: { steps: 1, ms: 1_000 } });
  await h.startWorker({ id: "agent-b", budget: { steps: 1, ms: 1_000 } });
}, 60_000);
afterAll(async () => {
  await h?.close();
});

/** The messages' types and contents as the run left them. */
function transcript(values: unknown): [string, unknown][] {
  const messages = (values as { messages: { getType?: () => string; type?: string; content: unknown }[] })
    .messages;
  return messages.map((m) => [m.getType?.() ?? String(m.type), m.content]);
}

async function parkedBooking(flight: string) {
  const { runId, threadId } = await h.client.runs.start({
    graphId: "tool-agent",
    input: { messages: [{ role: "user", content: `book ${flight}` }] },
  });
  const parked = await h.client.runs.wait(runId, { timeoutMs: 20_000 });
  return { threadId, parked };
}

describe("a prebuilt ToolNode agent on workers", () => {
  it("parks inside the tools node with the inbox's request; an edit answered from another process books the edited flight", async () => {
    const { threadId, parked } = await parkedBooking("LH400");
    expect(parked.status).toBe("interrupted");
    expect(parked.interrupts.map((i) => i.value)).toEqual([
      [
        {
          action_request: { action: "book_flight", args: { flight: "LH400", passenger: "Ada" } },
          config: { allow_accept: true, allow_edit: true, allow_respond: true, allow_ignore: true },
          description: "Book LH400 for Ada?",
        },
      ],
    ]);
    expect((await h.client.threads.get(threadId)).next).toEqual(["tools"]);

    const inbox = anotherClient(h);
    try {
      const edit = {
        type: "edit",
        args: { action: "book_flight", args: { flight: "LH402", passenger: "Ada" } },
      };
      const { runId } = await inbox.threads.resume(threadId, [edit]);
      const done = await inbox.runs.wait(runId, { timeoutMs: 20_000 });
      expect(done.status).toBe("success");
      expect(transcript(done.values).slice(1)).toEqual([
        ["ai", ""],
        ["tool", "Booked LH402 for Ada."],
        ["ai", "Done: Booked LH402 for Ada."],
      ]);
    } finally {
      await inbox.close();
    }
  });

  it("refuses an answer the inbox's schema does not allow, leaving the booking waiting; a reply declines it", async () => {
    const { threadId } = await parkedBooking("BA117");
    await expect(h.client.threads.resume(threadId, [{ type: "maybe", args: null }])).rejects.toThrow(
      InvalidResumeError,
    );
    expect((await h.client.threads.get(threadId)).tasks.flatMap((t) => t.interrupts)).toHaveLength(1);

    const { runId } = await h.client.threads.resume(threadId, [{ type: "response", args: "too expensive" }]);
    const done = await h.client.runs.wait(runId, { timeoutMs: 20_000 });
    expect(transcript(done.values).at(-1)).toEqual(["ai", "Done: Not booked: too expensive"]);
  });
});
