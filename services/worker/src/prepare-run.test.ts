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
    .addNode("book", (s) => ({ answer: `${s.answer} booked` }))
    .addEdge(START, "ask")
    .addEdge("ask", "book")
    .addEdge("book", END)
    .compile({ checkpointer: saver });
  const threadId = randomUUID();
  const run = (input: RunRow["input"]) => ({ id: randomUUID(), thread_id: threadId, input }) as RunRow;
  const configFor = (r: RunRow) => ({ configurable: { thread_id: threadId }, metadata: { run_id: r.id } });
  /** One delivery of the run's job: a stepper of its own, as a worker builds per job. */
  const deliver = async (r: RunRow) => {
    const stepper = graph.stepper(configFor(r));
    await prepareRun(stepper, r);
    return stepper;
  };
  const history = async (r: RunRow) => {
    const all = [];
    for await (const s of graph.getStateHistory(configFor(r))) all.push(s);
    return all;
  };
  return { graph, run, configFor, deliver, history };
}

describe("recording a run's input exactly once, whatever the deliveries", () => {
  it("a start delivered twice writes one input checkpoint", async () => {
    const { run, deliver, history } = setup();
    const start = run({ input: { item: "car" } });
    await deliver(start);
    await deliver(start);
    expect(await history(start)).toHaveLength(1);
  });

  it("a start delivered again after it stepped records nothing and goes on from the head", async () => {
    const { run, deliver, history } = setup();
    const start = run({ input: { item: "car" } });
    expect((await (await deliver(start)).step()).status).toBe("interrupted");
    const before = await history(start);
    const again = await deliver(start);
    expect(await history(start)).toHaveLength(before.length);
    expect((await again.step()).status).toBe("interrupted");
  });

  it("a resume delivered twice records its answer once, and the node gets it", async () => {
    const { graph, run, configFor, deliver } = setup();
    const start = run({ input: { item: "car" } });
    const parked = await (await deliver(start)).step();
    const interruptId = parked.interrupts[0]?.id as string;
    const resume = run({ resume: { [interruptId]: "yes" } });
    await deliver(resume);
    const second = await deliver(resume);
    expect((await second.step()).status).toBe("next");
    expect((await second.step()).status).toBe("done");
    expect((await graph.getState(configFor(resume))).values.answer).toBe("car: yes booked");
  });

  it("a resume delivered again after its answer was consumed records nothing", async () => {
    const { graph, run, configFor, deliver } = setup();
    const start = run({ input: { item: "car" } });
    const parked = await (await deliver(start)).step();
    const resume = run({ resume: { [parked.interrupts[0]?.id as string]: "yes" } });
    expect((await (await deliver(resume)).step()).status).toBe("next");
    const again = await deliver(resume);
    expect((await again.step()).status).toBe("done");
    expect((await graph.getState(configFor(resume))).values.answer).toBe("car: yes booked");
  });

  it("still refuses an answer to an interrupt the thread never had", async () => {
    const { run, deliver } = setup();
    const start = run({ input: { item: "car" } });
    await (await deliver(start)).step();
    const wrong = run({ resume: { [randomUUID()]: "yes" } });
    await expect(deliver(wrong)).rejects.toMatchObject({ code: "UNKNOWN_INTERRUPT" });
  });
});
