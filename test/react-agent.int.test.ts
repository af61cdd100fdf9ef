// An agent made by createReactAgent (LangGraph's prebuilt factory), served by workers: it parks
// before its tools run (interruptBefore: ["tools"]), and a person's go-ahead from another process
// runs the booking and lets the model report it.
import { randomUUID } from "node:crypto";
import { createDb, registerGraph } from "@layover/runtime";
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

  it("edits the model's tool call at the breakpoint (threads.continue with an update) and runs the edited call only", async () => {
    const { runId, threadId } = await h.client.runs.start({
      graphId: "react-agent",
      input: { messages: [{ role: "user", content: "book LH400" }] },
    });
    await h.client.runs.wait(runId, { timeoutMs: 20_000 });
    // The reviewer changes the flight: the AI message with the same id replaces the model's.
    const edited = {
      role: "assistant",
      id: "ai-ask",
      content: "",
      tool_calls: [{ name: "book_flight", args: { flight: "LH402" }, id: "call-book", type: "tool_call" }],
    };
    const reviewer = anotherClient(h);
    try {
      const { runId: continued } = await reviewer.threads.continue(threadId, {
        update: { messages: [edited] },
      });
      const done = await reviewer.runs.wait(continued, { timeoutMs: 20_000 });
      expect(done.status).toBe("success");
      expect(transcript(done.values)).toEqual([
        ["human", null, "book LH400", 0],
        ["ai", null, "", 1],
        ["tool", "book_flight", "Booked LH402.", 0],
        ["ai", "booking_agent", "Done: Booked LH402.", 0],
      ]);
    } finally {
      await reviewer.close();
    }
  });

  it("answers the tool call as the tools node (threads.continue with asNode): the tool never runs, the model reads the answer", async () => {
    const { runId, threadId } = await h.client.runs.start({
      graphId: "react-agent",
      input: { messages: [{ role: "user", content: "book LH404" }] },
    });
    await h.client.runs.wait(runId, { timeoutMs: 20_000 });
    const reviewer = anotherClient(h);
    try {
      const refusal = {
        role: "tool",
        content: "Declined: over budget.",
        tool_call_id: "call-book",
        name: "book_flight",
      };
      const { runId: continued } = await reviewer.threads.continue(threadId, {
        update: { messages: [refusal] },
        asNode: "tools",
      });
      const done = await reviewer.runs.wait(continued, { timeoutMs: 20_000 });
      expect(done.status).toBe("success");
      expect(transcript(done.values)).toEqual([
        ["human", null, "book LH404", 0],
        ["ai", "booking_agent", "", 1],
        ["tool", "book_flight", "Declined: over budget.", 0],
        ["ai", "booking_agent", "Done: Declined: over budget.", 0],
      ]);
      const updates = [];
      for await (const s of reviewer.threads.history(threadId))
        if (s.metadata.source === "update") updates.push(Object.keys(s.metadata.writes ?? {}));
      expect(updates).toEqual([["tools"]]);
    } finally {
      await reviewer.close();
    }
  });

  it("refuses a node the graph does not have, leaving the thread at its breakpoint", async () => {
    const { runId, threadId } = await h.client.runs.start({
      graphId: "react-agent",
      input: { messages: [{ role: "user", content: "book AF10" }] },
    });
    await h.client.runs.wait(runId, { timeoutMs: 20_000 });
    const before = await h.client.threads.get(threadId);
    for (const asNode of ["tool", "", 7]) {
      await expect(
        h.client.threads.continue(threadId, { update: { messages: [] }, asNode: asNode as string }),
      ).rejects.toMatchObject({ code: "INVALID_INPUT", message: expect.stringContaining("asNode") });
    }
    const after = await h.client.threads.get(threadId);
    expect([after.status, after.next, after.config]).toEqual(["interrupted", ["tools"], before.config]);
    expect(await h.client.threads.runs(threadId)).toHaveLength(1);
  });

  it("refuses asNode while the graph's workers predate it (their registration says nothing of it): an older worker would run the skipped node", async () => {
    const db = createDb(h.pool, h.schema);
    const graphId = `old-agent-${randomUUID()}`;
    await registerGraph(
      db,
      { id: graphId, input_schema: {}, options: { nodes: ["agent", "tools"] } },
      90_000,
    );
    const threadId = randomUUID();
    await h.pool.query(
      `INSERT INTO "${h.schema}".threads (id, graph_id, status) VALUES ($1, $2, 'interrupted')`,
      [threadId, graphId],
    );
    await expect(
      h.client.threads.continue(threadId, { update: { messages: [] }, asNode: "tools" }),
    ).rejects.toMatchObject({ code: "INVALID_INPUT", message: expect.stringContaining("predate asNode") });
    expect(await h.client.threads.runs(threadId)).toEqual([]);
  });

  it("refuses an update the state schema does not have, leaving the thread at its breakpoint", async () => {
    const { runId, threadId } = await h.client.runs.start({
      graphId: "react-agent",
      input: { messages: [{ role: "user", content: "book BA117" }] },
    });
    await h.client.runs.wait(runId, { timeoutMs: 20_000 });
    await expect(h.client.threads.continue(threadId, { update: { seat: "12A" } })).rejects.toMatchObject({
      code: "INVALID_INPUT",
    });
    const paused = await h.client.threads.get(threadId);
    expect([paused.status, paused.next]).toEqual(["interrupted", ["tools"]]);
  });
});
