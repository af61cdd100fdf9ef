// The worker's default interrupt timeout (INTERRUPT_TIMEOUT_MS, an operator's safety net) and a
// question whose schema refuses the timeout rejection. Since da526ca refused such questions as
// they were asked, a worker-wide default failed every schema'd approval gate of every graph: the
// default now leaves them without a deadline (said once at warn), and they park and are answered.
import { END, interrupt, START, StateGraph, StateSchema } from "@layover/graph";
import { afterAll, beforeAll, expect, it } from "vitest";
import { z } from "zod";
import { createHarness, type Harness } from "./support/harness.ts";

const State = new StateSchema({ answer: z.unknown().optional() });
const approval = new StateGraph(State)
  .addNode("ask", () => ({ answer: interrupt("approve the booking?", { schema: z.enum(["yes", "no"]) }) }))
  .addEdge(START, "ask")
  .addEdge("ask", END)
  .compile();
const plain = new StateGraph(State)
  .addNode("ask", () => ({ answer: interrupt("approve?") }))
  .addEdge(START, "ask")
  .addEdge("ask", END)
  .compile();

let h: Harness;
beforeAll(async () => {
  h = await createHarness("worker_default_timeout");
  await h.startWorker({ id: "worker-a", interruptTimeoutMs: 7 * 86_400_000, graphs: { approval, plain } });
}, 60_000);
afterAll(async () => {
  await h?.close();
});

it("a schema'd question parks without the default deadline, and its answer finishes the run", async () => {
  const { runId, threadId } = await h.client.runs.start({ graphId: "approval", input: {} });
  const parked = await h.client.runs.wait(runId, { timeoutMs: 20_000 });
  expect(parked.status).toBe("interrupted");
  expect(parked.interrupts[0]?.deadline ?? null).toBeNull();
  const { runId: resumed } = await h.client.threads.resume(threadId, "yes");
  expect(await h.client.runs.wait(resumed, { timeoutMs: 20_000 })).toMatchObject({
    status: "success",
    values: { answer: "yes" },
  });
});

it("a question without a schema takes the default deadline", async () => {
  const { runId } = await h.client.runs.start({ graphId: "plain", input: {} });
  const parked = await h.client.runs.wait(runId, { timeoutMs: 20_000 });
  expect(parked.status).toBe("interrupted");
  const deadline = parked.interrupts[0]?.deadline as Date;
  expect(deadline.getTime() - Date.now()).toBeGreaterThan(6 * 86_400_000);
});
