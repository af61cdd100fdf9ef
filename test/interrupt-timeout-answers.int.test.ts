// What an interrupt is answered with when nobody answers must be an answer its node takes. An
// approval gate with a schema and a timeout (interrupt("approve?", { timeout, schema:
// z.enum(["yes", "no"]) })) parked, and at its deadline the sweep's rejection failed the node's
// schema: the run ended in error, the question was expired, and nobody could answer any more.
// Such a question is now refused when it is asked, naming the fix; one whose onTimeout fits
// expires into that answer. A timeout Postgres cannot add to now() left its run pending for
// ever; it is refused too.
import { END, interrupt, START, StateGraph, StateSchema } from "@layover/graph";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { z } from "zod";
import { createHarness, type Harness } from "./support/harness.ts";

const State = new StateSchema({
  answer: z.unknown().optional(),
  timeoutMs: z.unknown().default(300),
  onTimeout: z.unknown().optional(),
});

/** An approval gate with a resume schema and a timeout (and the onTimeout the input gives). */
const yesNoGate = new StateGraph(State)
  .addNode("ask", (s) => ({
    answer: interrupt("approve?", {
      timeout: s.timeoutMs as number,
      schema: z.enum(["yes", "no"]),
      ...(s.onTimeout === undefined ? {} : { onTimeout: s.onTimeout }),
    }),
  }))
  .addEdge(START, "ask")
  .addEdge("ask", END)
  .compile();

/** The gate with a schema and no timeout of its own: its graph's entry gives both. */
const askOnly = new StateGraph(State)
  .addNode("ask", () => ({ answer: interrupt("approve?", { schema: z.enum(["yes", "no"]) }) }))
  .addEdge(START, "ask")
  .addEdge("ask", END)
  .compile();

let h: Harness;
beforeAll(async () => {
  h = await createHarness("timeout_answers");
  await h.startWorker({
    id: "worker-a",
    graphs: {
      "yes-no-gate": yesNoGate,
      "graph-default-no": { graph: askOnly, interruptTimeout: 300, onTimeout: "no" },
      "graph-default-rejection": { graph: askOnly, interruptTimeout: 300 },
    },
  });
  await h.startScheduler({ id: "scheduler-a" });
}, 60_000);
afterAll(async () => {
  await h?.close();
});

/** The thread's last run once it has `count`, waited for. */
async function lastRun(threadId: string, count: number) {
  for (let i = 0; i < 400; i++) {
    const runs = await h.client.threads.runs(threadId);
    if (runs.length >= count) return h.client.runs.wait(runs.at(-1)?.runId as string, { timeoutMs: 20_000 });
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`thread ${threadId} never had ${count} runs`);
}

describe("a question with a schema and a timeout", () => {
  it("whose timeout rejection the schema refuses is refused as it is asked, naming the fix", async () => {
    const { runId, threadId } = await h.client.runs.start({ graphId: "yes-no-gate", input: {} });
    const result = await h.client.runs.wait(runId, { timeoutMs: 20_000 });
    expect(result.status).toBe("error");
    expect(result.error).toMatchObject({
      code: "INVALID_INPUT",
      message: expect.stringContaining("does not fit its schema"),
    });
    expect(result.error?.message).toContain("onTimeout");
    // Nothing waits for an answer that could never come.
    expect(await h.client.interrupts.list({ threadId })).toMatchObject({ interrupts: [] });
  });

  it("whose onTimeout the schema takes expires into that answer, and the run finishes", async () => {
    const { runId, threadId } = await h.client.runs.start({
      graphId: "yes-no-gate",
      input: { onTimeout: "no" },
    });
    expect((await h.client.runs.wait(runId, { timeoutMs: 20_000 })).status).toBe("interrupted");
    const timedOut = await lastRun(threadId, 2);
    expect(timedOut).toMatchObject({ status: "success", values: { answer: "no" } });
  });

  it("whose onTimeout the schema refuses fails in the node that asks, before it parks", async () => {
    const { runId } = await h.client.runs.start({ graphId: "yes-no-gate", input: { onTimeout: "maybe" } });
    const result = await h.client.runs.wait(runId, { timeoutMs: 20_000 });
    expect(result.status).toBe("error");
    expect(result.error?.message).toContain("onTimeout does not fit its schema");
  });

  it("takes its graph's onTimeout and timeout, and is refused when only the graph's timeout applies", async () => {
    const fits = await h.client.runs.start({ graphId: "graph-default-no", input: {} });
    expect((await h.client.runs.wait(fits.runId, { timeoutMs: 20_000 })).status).toBe("interrupted");
    expect(await lastRun(fits.threadId, 2)).toMatchObject({ status: "success", values: { answer: "no" } });
    const refused = await h.client.runs.start({ graphId: "graph-default-rejection", input: {} });
    expect(await h.client.runs.wait(refused.runId, { timeoutMs: 20_000 })).toMatchObject({
      status: "error",
      error: { message: expect.stringContaining("does not fit its schema") },
    });
  });
});

describe("a timeout longer than a century", () => {
  it("is refused in the node that asks, instead of leaving its run pending for ever", async () => {
    for (const timeoutMs of [Number.MAX_VALUE, "99999999999d"]) {
      const { runId } = await h.client.runs.start({ graphId: "yes-no-gate", input: { timeoutMs } });
      const result = await h.client.runs.wait(runId, { timeoutMs: 20_000 });
      expect(result.status).toBe("error");
      expect(result.error?.message).toContain("at most a century");
    }
  });
});
