import { randomUUID } from "node:crypto";
import {
  type CompiledStateGraph,
  END,
  interrupt,
  MemorySaver,
  START,
  StateGraph,
  StateSchema,
} from "@layover/graph";
import { CallCounter, linearGraph } from "@layover/graph/testing";
import type { RunRow } from "@layover/runtime";
import { describe, expect, it } from "vitest";
import { z } from "zod";
import { prepareRun } from "./prepare-run.ts";

const State = new StateSchema({ item: z.string(), answer: z.string().optional() });

/** Runs of one new thread of `graph`, and their jobs' deliveries. */
function deliveries(graph: Pick<CompiledStateGraph<never, never>, "stepper">) {
  const threadId = randomUUID();
  const run = (input: RunRow["input"]) => ({ id: randomUUID(), thread_id: threadId, input }) as RunRow;
  const configFor = (r: RunRow) => ({ configurable: { thread_id: threadId }, metadata: { run_id: r.id } });
  /** One delivery of the run's job: a stepper of its own, as a worker builds per job. */
  const deliver = async (r: RunRow) => {
    const stepper = graph.stepper(configFor(r));
    await prepareRun(stepper, r);
    return stepper;
  };
  return { run, configFor, deliver };
}

function setup() {
  const saver = new MemorySaver();
  const graph = new StateGraph(State)
    .addNode("ask", (s) => ({ answer: `${s.item}: ${interrupt("ok?")}` }))
    .addNode("book", (s) => ({ answer: `${s.answer} booked` }))
    .addEdge(START, "ask")
    .addEdge("ask", "book")
    .addEdge("book", END)
    .compile({ checkpointer: saver });
  const { run, configFor, deliver } = deliveries(graph);
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

  it("refuses a run whose stored input says nothing to do (an input key JSON dropped), recording nothing", async () => {
    const { run, deliver, graph, configFor } = setup();
    const empty = run({} as RunRow["input"]); // what `{ input: undefined }` was stored as
    await expect(deliver(empty)).rejects.toMatchObject({
      code: "INVALID_INPUT",
      message: expect.stringContaining("holds no input, answers or breakpoint pass"),
    });
    expect((await graph.getState(configFor(empty))).values).toEqual({});
  });
});

/** a → b → c (linearGraph: each appends `name(value)`), stopping before b and before c. */
function breakpoints() {
  const calls = new CallCounter();
  const graph = linearGraph(new MemorySaver(), calls, {}, ["b", "c"]);
  const ran = () => ["a", "b", "c"].filter((name) => calls.of(name) > 0);
  const { run, configFor, deliver } = deliveries(graph);
  /** Steps a delivery's stepper until the run stops; the status it stopped with. */
  const finish = async (stepper: Awaited<ReturnType<typeof deliver>>) => {
    for (;;) {
      const outcome = await stepper.step();
      if (outcome.status !== "next") return outcome.status;
    }
  };
  const paused = async () => {
    expect(await finish(await deliver(run({ input: { value: "v" } })))).toBe("interrupted");
  };
  const log = async (r: RunRow) => (await graph.getState(configFor(r))).values.log;
  return { graph, ran, run, configFor, deliver, finish, paused, log };
}

describe("continuing past a breakpoint exactly once, whatever the deliveries", () => {
  it("a continue as a node delivered twice records its update once: the node never runs, the next one does", async () => {
    const { ran, run, deliver, finish, paused, log } = breakpoints();
    await paused();
    const skip = run({ asNode: "b", update: { log: ["answered as b"] } });
    await deliver(skip);
    expect(await finish(await deliver(skip))).toBe("done");
    expect(await log(skip)).toEqual(["a(v)", "answered as b", "c(v)"]);
    expect(ran()).toEqual(["a", "c"]);
  });

  it("a continue as a node with no update skips the node", async () => {
    const { ran, run, deliver, finish, paused, log } = breakpoints();
    await paused();
    const skip = run({ asNode: "b" });
    expect(await finish(await deliver(skip))).toBe("done");
    expect([await log(skip), ran()]).toEqual([
      ["a(v)", "c(v)"],
      ["a", "c"],
    ]);
  });

  it("a delivery that stored the update but not the breakpoint pass: the next delivery passes it", async () => {
    const { graph, ran, run, configFor, deliver, finish, paused, log } = breakpoints();
    await paused();
    // As a worker stopped between the update's checkpoint and the pass written after it leaves it.
    const asNode = run({ asNode: "b", update: { log: ["answered as b"] } });
    await graph.updateState(configFor(asNode), { log: ["answered as b"] }, "b");
    expect(await finish(await deliver(asNode))).toBe("done");
    expect(await log(asNode)).toEqual(["a(v)", "answered as b", "c(v)"]);
    expect(ran()).toEqual(["a", "c"]);
  });

  it("a continue with an update (no node) delivered twice runs the waiting node once, with the update", async () => {
    const { ran, run, deliver, finish, paused, log } = breakpoints();
    await paused();
    const edit = run({ continue: true, update: { log: ["edited"] } });
    await deliver(edit);
    expect(await finish(await deliver(edit))).toBe("interrupted"); // before c, a breakpoint of its own
    expect([await log(edit), ran()]).toEqual([
      ["a(v)", "edited", "b(v)"],
      ["a", "b"],
    ]);
  });
});

describe("going on from an older checkpoint exactly once, whatever the deliveries", () => {
  /** A thread of setup()'s graph run to its end: its checkpoints' count, and the id of the one that planned `node`. */
  async function finished(t: ReturnType<typeof setup>, node: string) {
    const start = t.run({ input: { item: "car" } });
    const parked = await (await t.deliver(start)).step();
    const resumed = await t.deliver(t.run({ resume: { [parked.interrupts[0]?.id as string]: "yes" } }));
    await resumed.step();
    expect((await resumed.step()).status).toBe("done");
    const all = await t.history(start);
    return {
      count: all.length,
      id: all.find((s) => s.next[0] === node)?.config.configurable?.checkpoint_id as string,
    };
  }

  it("a fork delivered twice forks once, and the node runs again with its update, asking again", async () => {
    const t = setup();
    const { count, id } = await finished(t, "ask");
    const fork = t.run({ fork: { checkpointId: id }, update: { item: "bike" } });
    await t.deliver(fork);
    const again = await t.deliver(fork);
    expect(await t.history(fork)).toHaveLength(count + 1);
    const asked = await again.step();
    expect(asked).toMatchObject({ status: "interrupted", interrupts: [{ value: "ok?" }] });
    const resumed = await t.deliver(t.run({ resume: { [asked.interrupts[0]?.id as string]: "no" } }));
    await resumed.step();
    expect((await resumed.step()).status).toBe("done");
    expect((await t.graph.getState(t.configFor(fork))).values.answer).toBe("bike: no booked");
  });

  it("a fork as a node delivered twice forks once: its update is that node's output, and the node after it runs", async () => {
    const t = setup();
    const { count, id } = await finished(t, "ask");
    const skip = t.run({ fork: { checkpointId: id, asNode: "ask" }, update: { answer: "car: by policy" } });
    await t.deliver(skip);
    const again = await t.deliver(skip);
    expect(await t.history(skip)).toHaveLength(count + 1);
    expect((await again.step()).status).toBe("done");
    expect((await t.graph.getState(t.configFor(skip))).values.answer).toBe("car: by policy booked");
  });

  it("a replay delivered twice runs the nodes after its checkpoint once more", async () => {
    const t = setup();
    const { count, id } = await finished(t, "book");
    const replay = t.run({ fork: { checkpointId: id } });
    await t.deliver(replay);
    const again = await t.deliver(replay);
    expect(await t.history(replay)).toHaveLength(count + 1);
    expect((await again.step()).status).toBe("done");
    // The fork, then the superstep that booked again: both the replay's.
    const [booked, fork] = await t.history(replay);
    expect([booked?.metadata?.run_id, fork?.metadata?.run_id, fork?.metadata?.source]).toEqual([
      replay.id,
      replay.id,
      "fork",
    ]);
    expect(booked?.values.answer).toBe("car: yes booked");
  });
});
