import { randomUUID } from "node:crypto";
import { END, interrupt, MemorySaver, START, StateGraph, StateSchema } from "@layover/graph";
import type { RunRow } from "@layover/runtime";
import { describe, expect, it } from "vitest";
import { z } from "zod";
import { prepareRun } from "./prepare-run.ts";

const State = new StateSchema({ item: z.string(), answer: z.string().optional() });

function setup() {
  const saver = new MemorySaver();
  const graph = new StateGraph(State)
    .addNode("ask", (s) => ({ answer: `${s.item}: ${interrupt("ok?")}` }))
    .addEdge(START, "ask")
    .addEdge("ask", END)
    .compile({ checkpointer: saver });
  const threadId = randomUUID();
  const run = (input: RunRow["input"]) => ({ id: randomUUID(), thread_id: threadId, input }) as RunRow;
  const configFor = (r: RunRow) => ({ configurable: { thread_id: threadId }, metadata: { run_id: r.id } });
  return { saver, graph, threadId, run, configFor };
}

describe("recording a run's input exactly once, whatever the deliveries", () => {
  it("a start delivered twice writes one input checkpoint", async () => {
    const { saver, graph, run, configFor } = setup();
    const start = run({ input: { item: "car" } });
    const first = await prepareRun(graph, saver, start, configFor(start));
    const second = await prepareRun(graph, saver, start, configFor(start));
    expect(second).toBe(first);
    const history = [];
    for await (const s of graph.getStateHistory(configFor(start))) history.push(s);
    expect(history).toHaveLength(1);
  });

  it("a resume delivered twice records its answer once, and the node gets it", async () => {
    const { saver, graph, run, configFor } = setup();
    const start = run({ input: { item: "car" } });
    await prepareRun(graph, saver, start, configFor(start));
    const parked = await graph.step(configFor(start));
    const interruptId = parked.interrupts[0]?.id as string;
    const resume = run({ resume: { [interruptId]: "yes" } });
    const first = await prepareRun(graph, saver, resume, configFor(resume));
    expect(await prepareRun(graph, saver, resume, configFor(resume))).toBe(first);
    expect((await graph.step(configFor(resume))).status).toBe("done");
    expect((await graph.getState(configFor(resume))).values.answer).toBe("car: yes");
  });

  it("still refuses an answer to an interrupt the thread never had", async () => {
    const { saver, graph, run, configFor } = setup();
    const start = run({ input: { item: "car" } });
    await prepareRun(graph, saver, start, configFor(start));
    await graph.step(configFor(start));
    const wrong = run({ resume: { [randomUUID()]: "yes" } });
    await expect(prepareRun(graph, saver, wrong, configFor(wrong))).rejects.toMatchObject({
      code: "UNKNOWN_INTERRUPT",
    });
  });
});
