// NodeInterrupt, LangGraph's dynamic breakpoint (deprecated there for interrupt(), still exported):
// a node throws it to pause with a value; resumed, the node runs again from its beginning and
// pauses again unless what it checks has changed.
import { describe, expect, it } from "vitest";
import { z } from "zod";
import {
  Command,
  isGraphBubbleUp,
  isGraphInterrupt,
  MemorySaver,
  NodeInterrupt,
  START,
  StateGraph,
  StateSchema,
} from "./index.ts";

const State = new StateSchema({ text: z.string(), done: z.string().optional() });

function checkedGraph() {
  let runs = 0;
  const graph = new StateGraph(State)
    .addNode("check", (state) => {
      runs += 1;
      if (state.text.length > 5)
        throw new NodeInterrupt(`Received input longer than 5 characters: ${state.text}`);
      return { done: state.text.toUpperCase() };
    })
    .addEdge(START, "check")
    .compile({ checkpointer: new MemorySaver() });
  return { graph, runs: () => runs };
}

describe("NodeInterrupt", () => {
  it("pauses the node with its value, shown as the run's interrupt and in getState's task", async () => {
    const { graph } = checkedGraph();
    const config = { configurable: { thread_id: "t" } };
    const result = await graph.invoke({ text: "far too long" }, config);
    expect(result.__interrupt__).toEqual([
      { id: expect.any(String), value: "Received input longer than 5 characters: far too long" },
    ]);
    const state = await graph.getState(config);
    expect(state.next).toEqual(["check"]);
    expect(state.tasks[0]?.interrupts).toEqual(result.__interrupt__);
  });

  it("pauses again, as a new question, when resumed with nothing changed; goes on once an update changes it", async () => {
    const { graph, runs } = checkedGraph();
    const config = { configurable: { thread_id: "t" } };
    const first = await graph.invoke({ text: "far too long" }, config);
    const again = await graph.invoke(new Command({ resume: "go on" }), config);
    const twice = await graph.invoke(new Command({ resume: "go on" }), config);
    const asked = [first, again, twice].map((result) => result.__interrupt__?.[0]);
    expect(asked.map((record) => record?.value)).toEqual(Array(3).fill(first.__interrupt__?.[0]?.value));
    // Each is answered once: the answer to the first is not taken for the second.
    expect(new Set(asked.map((record) => record?.id)).size).toBe(3);
    const done = await graph.invoke(new Command({ resume: "ok", update: { text: "short" } }), config);
    expect(done).toEqual({ text: "short", done: "SHORT" });
    expect(runs()).toBe(4);
  });

  it("goes on after updateState and invoke(null), as LangGraph's dynamic-breakpoint guide does", async () => {
    const { graph } = checkedGraph();
    const config = { configurable: { thread_id: "t" } };
    await graph.invoke({ text: "far too long" }, config);
    await graph.updateState(config, { text: "tiny" });
    expect(await graph.invoke(null, config)).toEqual({ text: "tiny", done: "TINY" });
  });

  it("is a GraphInterrupt and a GraphBubbleUp, named NodeInterrupt", async () => {
    let thrown: unknown;
    const graph = new StateGraph(State)
      .addNode("n", () => {
        thrown = new NodeInterrupt("stop");
        throw thrown;
      })
      .addEdge(START, "n")
      .compile({ checkpointer: new MemorySaver() });
    await graph.invoke({ text: "x" }, { configurable: { thread_id: "t" } });
    expect(thrown).toBeInstanceOf(NodeInterrupt);
    expect(isGraphInterrupt(thrown)).toBe(true);
    expect(isGraphBubbleUp(thrown)).toBe(true);
    expect((thrown as Error).name).toBe("NodeInterrupt");
    // Across copies of the package, by name, as LangGraph's isGraphInterrupt.
    const named = (fields: object) => Object.assign(new Error("x"), { name: "NodeInterrupt", ...fields });
    expect(isGraphInterrupt(named({ interrupts: [{ value: 1 }] }))).toBe(true);
    expect(isGraphInterrupt(named({}))).toBe(false); // nothing to answer: not a pause
  });

  it("pauses on LangGraph's own NodeInterrupt too (its interrupts carry no id: they are given one)", async () => {
    const theirs = () =>
      Object.assign(new Error("[]"), { name: "NodeInterrupt", interrupts: [{ value: "v", when: "during" }] });
    const graph = new StateGraph(State)
      .addNode("n", (state) => {
        if (state.text === "x") throw theirs();
        return { done: state.text };
      })
      .addEdge(START, "n")
      .compile({ checkpointer: new MemorySaver() });
    const config = { configurable: { thread_id: "t" } };
    const paused = await graph.invoke({ text: "x" }, config);
    const id = paused.__interrupt__?.[0]?.id as string;
    expect(id).toMatch(/^[0-9a-f-]{36}$/);
    const done = await graph.invoke(new Command({ resume: { [id]: "ok" }, update: { text: "y" } }), config);
    expect(done).toEqual({ text: "y", done: "y" });
    // An error named so without interrupts is a failure, not a pause with nothing to answer.
    const broken = new StateGraph(State)
      .addNode("n", () => {
        throw Object.assign(new Error("boom"), { name: "NodeInterrupt" });
      })
      .addEdge(START, "n")
      .compile({ checkpointer: new MemorySaver() });
    await expect(broken.invoke({ text: "x" }, { configurable: { thread_id: "u" } })).rejects.toThrow("boom");
  });

  it("refuses a value that is not JSON; one may be made outside a node", async () => {
    expect(new NodeInterrupt("stop")).toBeInstanceOf(NodeInterrupt);
    const graph = new StateGraph(State)
      .addNode("n", () => {
        throw new NodeInterrupt({ at: new Map() });
      })
      .addEdge(START, "n")
      .compile({ checkpointer: new MemorySaver() });
    await expect(graph.invoke({ text: "x" }, { configurable: { thread_id: "t" } })).rejects.toMatchObject({
      code: "NOT_SERIALIZABLE",
    });
  });
});
