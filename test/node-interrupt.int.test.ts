// A graph that pauses with NodeInterrupt (LangGraph's dynamic breakpoint) on the runtime: the
// run parks as for interrupt(); an answer that changes nothing parks it again with a new question
// (the first stays resolved); a resume with an update that changes what the node checks lets it
// go on. In-process worker on real Postgres, Redis and BullMQ.
import { NodeInterrupt, START, StateGraph, StateSchema } from "@layover/graph";
import { afterAll, beforeAll, expect, it } from "vitest";
import { z } from "zod";
import { createHarness, type Harness } from "./support/harness.ts";

const lengthChecked = new StateGraph(new StateSchema({ text: z.string(), done: z.string().optional() }))
  .addNode("check", (state) => {
    if (state.text.length > 5) throw new NodeInterrupt(`longer than 5 characters: ${state.text}`);
    return { done: state.text.toUpperCase() };
  })
  .addEdge(START, "check")
  .compile();

let h: Harness;
let stopWorker: () => Promise<void>;
beforeAll(async () => {
  h = await createHarness("node_interrupt");
  stopWorker = await h.startWorker({ graphs: { lengthChecked } });
}, 60_000);
afterAll(async () => {
  await stopWorker?.();
  await h?.close();
});

it("parks on a NodeInterrupt, parks again on an answer alone, and goes on after a resume with an update", async () => {
  const wait = (runId: string) => h.client.runs.wait(runId, { timeoutMs: 20_000 });
  const { runId, threadId } = await h.client.runs.start({
    graphId: "lengthChecked",
    input: { text: "far too long" },
  });
  const parked = await wait(runId);
  expect(parked).toMatchObject({
    status: "interrupted",
    interrupts: [{ value: "longer than 5 characters: far too long" }],
  });
  const first = parked.interrupts[0]?.id as string;

  const again = await wait((await h.client.threads.resume(threadId, "go on")).runId);
  expect(again.status).toBe("interrupted");
  const second = again.interrupts[0]?.id as string;
  expect(second).not.toBe(first);
  const pending = await h.client.interrupts.list({ graphId: "lengthChecked", status: "pending" });
  expect(pending.interrupts.map((i) => i.id)).toEqual([second]);

  const resumed = await h.client.threads.resume(threadId, "shortened", { update: { text: "short" } });
  expect(await wait(resumed.runId)).toMatchObject({
    status: "success",
    values: { text: "short", done: "SHORT" },
  });
  expect((await h.client.threads.get(threadId)).values).toEqual({ text: "short", done: "SHORT" });
}, 60_000);
