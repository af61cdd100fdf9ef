import { type CheckpointSaver, MemorySaver } from "@layover/checkpoint";
import { describe, expect, it } from "vitest";
import { Annotation, Command, END, interrupt, START, StateGraph } from "../index.ts";
import {
  appendReducer,
  CallCounter,
  LogState,
  threadConfig,
  type UseSaver,
  withSubgraphNode,
} from "./helpers.ts";

/** A subgraph (no checkpointer of its own) whose node asks each question in turn. */
function askingSubgraph(calls: CallCounter, questions = ["name?"]) {
  return new StateGraph(LogState)
    .addNode("inner", () => {
      calls.hit("inner");
      return { log: questions.map((question) => `${question} ${interrupt(question)}`) };
    })
    .addEdge(START, "inner")
    .compile();
}

/** Item 7: interrupts inside subgraphs surface in the parent and are resumed from it. Command.PARENT. */
export function describeSubgraphs(use: UseSaver): void {
  describe("subgraph interrupts", () => {
    it("surface in the parent and resume from it (subgraph as a node)", () => subgraphNode(use()));
    it("a subgraph node shares only the keys both graphs have, as in LangGraph", () => sharedKeys(use()));
    it("a node's finished subgraph call keeps its result when the node runs again: nothing is asked twice", () =>
      finishedSubgraphCall(use()));
    it("a finished subgraph call runs anew for another input, or when the node's retry policy retries", () =>
      finishedCallRunsAnew(use()));
    it("a finished call's input read back from a checkpoint counts as the same input", () =>
      finishedCallSameStoredInput(use()));
    it("re-run both the parent node and the subgraph node on resume (seed 002)", () => subgraphCall(use()));
    it("resume one after another when the subgraph node interrupts twice", () => subgraphTwice(use()));
    it("resume parallel interrupts of a subgraph one at a time from the parent", () =>
      subgraphParallel(use()));
    it("a stepper whose subgraphs share its saver resumes one compiled with a saver of its own elsewhere", () =>
      sharedSaverOnly(use()));
  });
  describe("Command.PARENT", () => {
    it("routes in the parent graph from a subgraph node, with its update", () => parentCommand(use(), false));
    it("is not retried by the subgraph node's retry policy", () => parentCommand(use(), true));
  });
}

async function subgraphNode(saver: CheckpointSaver): Promise<void> {
  const calls = new CallCounter();
  const graph = new StateGraph(LogState)
    .addNode("sub", askingSubgraph(calls))
    .addNode("after", () => ({ log: "after" }))
    .addEdge(START, "sub")
    .addEdge("sub", "after")
    .compile({ checkpointer: saver });
  const config = threadConfig("subgraph-node");
  const paused = await graph.invoke({ value: "v" }, config);
  expect(paused.__interrupt__).toEqual([{ id: expect.any(String), value: "name?" }]);
  const state = await graph.getState(config);
  expect(state.next).toEqual(["sub"]);
  expect(state.tasks[0]?.interrupts.map((record) => record.id)).toEqual([paused.__interrupt__?.[0]?.id]);
  const done = await graph.invoke(new Command({ resume: "Ada" }), config);
  expect(done.log).toEqual(["name? Ada", "after"]);
  expect(calls.of("inner")).toBe(2);
}

async function sharedKeys(saver: CheckpointSaver): Promise<void> {
  const subgraph = new StateGraph(
    Annotation.Root({
      log: Annotation<string[], string | string[]>({ reducer: appendReducer, default: () => [] }),
      private: Annotation<string>(),
    }),
  )
    .addNode("inner", (state) => ({ log: `inner saw ${state.log.length}`, private: "kept inside" }))
    .addEdge(START, "inner")
    .compile();
  const graph = withSubgraphNode(saver, subgraph);
  const result = await graph.invoke({ value: "v", log: "in" }, threadConfig("subgraph-keys"));
  // The subgraph got `log` but not `value`; its whole `log` came back through the reducer, `private` did not.
  expect(result).toEqual({ value: "v", log: ["in", "in", "inner saw 1"] });
}

async function finishedSubgraphCall(saver: CheckpointSaver): Promise<void> {
  const calls = new CallCounter();
  const subgraph = askingSubgraph(calls);
  const asked: string[] = [];
  const graph = new StateGraph(LogState)
    .addNode("parent", async (state) => {
      const result = await subgraph.invoke({ value: state.value });
      const confirm = interrupt(`confirm ${result.log.join(", ")}?`);
      return { log: [...result.log, `confirmed ${confirm}`] };
    })
    .addEdge(START, "parent")
    .compile({ checkpointer: saver });
  const config = threadConfig("subgraph-finished");
  const ask = (result: { __interrupt__?: Array<{ value: unknown }> }) => {
    for (const record of result.__interrupt__ ?? []) asked.push(String(record.value));
  };
  ask(await graph.invoke({ value: "v" }, config));
  ask(await graph.invoke(new Command({ resume: "Ada" }), config));
  const done = await graph.invoke(new Command({ resume: "yes" }), config);
  expect(asked).toEqual(["name?", "confirm name? Ada?"]);
  expect(done.log).toEqual(["name? Ada", "confirmed yes"]);
  expect(calls.of("inner")).toBe(2); // asked, then answered; not run a third time for the confirmation
}

async function finishedCallRunsAnew(saver: CheckpointSaver): Promise<void> {
  const calls = new CallCounter();
  const drafter = new StateGraph(LogState)
    .addNode("draft", (state) => ({ log: `draft ${calls.hit("draft")} for ${state.value}` }))
    .addEdge(START, "draft")
    .compile();
  const graph = new StateGraph(LogState)
    .addNode("write", async (state) => {
      const draft = await drafter.invoke({ value: state.value });
      return { log: `${draft.log.join()} ${interrupt("send?")}` };
    })
    .addEdge(START, "write")
    .compile({ checkpointer: saver });
  const config = threadConfig("subgraph-new-input");
  await graph.invoke({ value: "Paris" }, config);
  const done = await graph.invoke(new Command({ resume: "ok", update: { value: "Rome" } }), config);
  expect(done.log).toEqual(["draft 2 for Rome ok"]);

  let failures = 1;
  const retried = new StateGraph(LogState)
    .addNode(
      "check",
      async (state) => {
        const draft = await drafter.invoke({ value: state.value });
        if (failures-- > 0) throw new Error("the draft was not good enough");
        return { log: draft.log };
      },
      { retryPolicy: { maxAttempts: 2, initialInterval: 1, jitter: false } },
    )
    .addEdge(START, "check")
    .compile({ checkpointer: saver });
  const again = await retried.invoke({ value: "Oslo" }, threadConfig("subgraph-retry"));
  expect(again.log).toEqual(["draft 4 for Oslo"]);
}

async function finishedCallSameStoredInput(saver: CheckpointSaver): Promise<void> {
  const calls = new CallCounter();
  const Trip = Annotation.Root({
    req: Annotation<{ city: string; date?: string }>(),
    log: Annotation<string[], string | string[]>({ reducer: appendReducer, default: () => [] }),
  });
  const drafter = new StateGraph(Trip)
    .addNode("draft", (state) => ({ log: `draft ${calls.hit("draft")} for ${state.req.city}` }))
    .addEdge(START, "draft")
    .compile();
  const graph = new StateGraph(Trip)
    // A key holding undefined: in memory on the first pass, absent once read back from the checkpoint.
    .addNode("prep", () => ({ req: { city: "Paris", date: undefined } }))
    .addNode("write", async (state) => {
      const draft = await drafter.invoke({ req: state.req });
      return { log: `${draft.log.join()} ${interrupt("send?")}` };
    })
    .addEdge(START, "prep")
    .addEdge("prep", "write")
    .compile({ checkpointer: saver });
  const config = threadConfig("subgraph-stored-input");
  await graph.invoke({ req: { city: "nowhere" } }, config);
  const done = await graph.invoke(new Command({ resume: "ok" }), config);
  expect(done.log).toEqual(["draft 1 for Paris ok"]);
}

async function subgraphCall(saver: CheckpointSaver): Promise<void> {
  const calls = new CallCounter();
  const subgraph = askingSubgraph(calls);
  const graph = new StateGraph(LogState)
    .addNode("parent", async (state) => {
      calls.hit("parent");
      const result = await subgraph.invoke({ value: state.value });
      return { log: result.log };
    })
    .addEdge(START, "parent")
    .addEdge("parent", END)
    .compile({ checkpointer: saver });
  const config = threadConfig("subgraph-call");
  await graph.invoke({ value: "v" }, config);
  expect([calls.of("parent"), calls.of("inner")]).toEqual([1, 1]);
  const done = await graph.invoke(new Command({ resume: "Ada" }), config);
  expect(done.log).toEqual(["name? Ada"]);
  expect([calls.of("parent"), calls.of("inner")]).toEqual([2, 2]);
}

async function subgraphTwice(saver: CheckpointSaver): Promise<void> {
  const calls = new CallCounter();
  const graph = withSubgraphNode(saver, askingSubgraph(calls, ["name?", "city?"]));
  const config = threadConfig("subgraph-twice");
  await graph.invoke({ value: "v" }, config);
  const second = await graph.invoke(new Command({ resume: "Ada" }), config);
  expect(second.__interrupt__?.map((record) => record.value)).toEqual(["city?"]);
  const done = await graph.invoke(new Command({ resume: "London" }), config);
  expect(done.log).toEqual(["name? Ada", "city? London"]);
  expect(calls.of("inner")).toBe(3);
}

async function subgraphParallel(saver: CheckpointSaver): Promise<void> {
  const calls = new CallCounter();
  const subgraph = new StateGraph(LogState)
    .addNode("x", () => ({ log: `x ${interrupt("x?")}` }))
    .addNode("y", () => {
      calls.hit("y");
      return { log: `y ${interrupt("y?")}` };
    })
    .addEdge(START, "x")
    .addEdge(START, "y")
    .compile();
  const graph = withSubgraphNode(saver, subgraph);
  const config = threadConfig("subgraph-parallel");
  const paused = await graph.invoke({ value: "v" }, config);
  const ids = Object.fromEntries((paused.__interrupt__ ?? []).map((record) => [record.value, record.id]));
  const partial = await graph.invoke(new Command({ resume: { [ids["y?"] as string]: 2 } }), config);
  expect(partial.__interrupt__).toEqual([{ id: ids["x?"], value: "x?" }]);
  const done = await graph.invoke(new Command({ resume: 1 }), config);
  expect(done.log).toEqual(["x 1", "y 2"]);
  expect(calls.of("y")).toBe(2);
}

async function parentCommand(saver: CheckpointSaver, retry: boolean): Promise<void> {
  const calls = new CallCounter();
  const subgraph = new StateGraph(LogState)
    .addNode(
      "inner",
      () => {
        calls.hit("inner");
        return new Command({ graph: Command.PARENT, goto: "target", update: { value: "from inner" } });
      },
      retry ? { retryPolicy: { maxAttempts: 3, initialInterval: 1, jitter: false } } : {},
    )
    .addNode("never", () => ({ log: "never" }))
    .addEdge(START, "inner")
    .addEdge("inner", "never")
    .compile();
  const graph = new StateGraph(LogState)
    .addNode("sub", subgraph, { ends: ["target"] })
    .addNode("target", (state) => ({ log: `target saw ${state.value}` }))
    .addEdge(START, "sub")
    .compile({ checkpointer: saver });
  const result = await graph.invoke({ value: "v" }, threadConfig("parent-command"));
  expect(result).toEqual({ value: "from inner", log: ["target saw from inner"] });
  expect(calls.of("inner")).toBe(1);
}

/**
 * A worker's stepper (subgraphsShareSaver): a subgraph compiled with a MemorySaver of its own
 * pauses into the run's saver, so another process (another copy of the graphs, another
 * MemorySaver) resumes it where it paused instead of asking again.
 */
async function sharedSaverOnly(saver: CheckpointSaver): Promise<void> {
  const calls = new CallCounter();
  const process = () => {
    const subgraph = new StateGraph(LogState)
      .addNode("inner", () => {
        calls.hit("inner");
        return { log: `name? ${interrupt("name?")}` };
      })
      .addEdge(START, "inner")
      .compile({ checkpointer: new MemorySaver() });
    return withSubgraphNode(saver, subgraph);
  };
  const config = threadConfig("subgraph-own-saver");
  const options = { subgraphsShareSaver: true };
  const first = process();
  await first.prepare({ value: "v" }, config);
  expect((await first.stepper(config, options).step()).status).toBe("interrupted");
  const second = process();
  await second.prepare(new Command({ resume: "Ada" }), config);
  expect((await second.stepper(config, options).step()).status).toBe("done");
  expect((await second.getState(config)).values.log).toEqual(["name? Ada"]);
  expect(calls.of("inner")).toBe(2);
}
