// updateState as LangGraph.js 1.7.3's (its figures recorded from the same calls on its engine): on an
// entrypoint the values are what its only node returned — the thread's value and what the next run
// finds with getPreviousState() —, an update that makes a new thread is its step 0, and one with no
// values and no node is the thread as it was, a step on. Refused, writing nothing: a Command as an
// entrypoint's value (LangGraph stores the Command), and a subgraph's namespace (README: edit the
// parent's state, or resume; LangGraph applies it to the subgraph).
import { randomUUID } from "node:crypto";
import { describe, expect, it } from "vitest";
import {
  Annotation,
  Command,
  entrypoint,
  getPreviousState,
  InvalidUpdateError,
  interrupt,
  MemorySaver,
  Send,
  START,
  StateGraph,
} from "./index.ts";

const thread = () => ({ configurable: { thread_id: randomUUID() } });

/** What a snapshot shows that LangGraph's recorded figures name. */
const shown = (state: {
  values: unknown;
  next: unknown;
  metadata?: { source?: unknown; step?: unknown } | undefined;
}) => ({
  values: state.values,
  next: state.next,
  source: state.metadata?.source,
  step: state.metadata?.step,
});

/** Adds its input to what the thread's last run kept, returns and keeps the sum. */
function summing() {
  return entrypoint({ name: "wf", checkpointer: new MemorySaver() }, async (n: number) => {
    const sum = (getPreviousState<number>() ?? 0) + n;
    return entrypoint.final({ value: sum, save: sum });
  });
}

describe("updateState on an entrypoint", () => {
  it("sets the thread's value, which the next run finds as its previous state", async () => {
    const wf = summing();
    const config = thread();
    expect(await wf.invoke(1, config)).toBe(1);
    await wf.updateState(config, 42);
    const state = await wf.getState(config);
    expect(shown(state)).toEqual({ values: 42, next: [], source: "update", step: 1 });
    await wf.updateState(config, { a: 1 }); // any value: an object is not keys of a state
    expect((await wf.getState(config)).values).toEqual({ a: 1 });
    expect(await wf.invoke(2, config)).toBe("[object Object]2"); // LangGraph.js: the same
    await wf.updateState(config, 7, "wf"); // as its node, by name
    expect(await wf.invoke(3, config)).toBe(10);
  });

  it("takes entrypoint.final: the value shown, and another kept for the next run", async () => {
    const wf = summing();
    const config = thread();
    await wf.invoke(1, config);
    await wf.updateState(config, entrypoint.final({ value: 1, save: 100 }));
    expect((await wf.getState(config)).values).toBe(1);
    expect(await wf.invoke(5, config)).toBe(105);
  });

  it("makes a new thread's value at step 0, with nothing left to run", async () => {
    const wf = summing();
    const config = thread();
    await wf.updateState(config, 5);
    const state = await wf.getState(config);
    expect({ values: state.values, next: state.next, step: state.metadata?.step }).toEqual({
      values: 5,
      next: [],
      step: 0,
    });
    expect(await wf.invoke(null, config)).toBe(5);
  });

  it("refuses another node, START among them (not one of an entrypoint's), and writes nothing", async () => {
    const wf = summing();
    const config = thread();
    await wf.invoke(1, config);
    for (const asNode of ["nope", START])
      await expect(wf.updateState(config, 3, asNode)).rejects.toBeInstanceOf(InvalidUpdateError);
    expect(await wf.invoke(2, config)).toBe(3);
  });
});

describe("updateState on a new thread of a StateGraph", () => {
  it("is step 0, as a node or as the input", async () => {
    const State = Annotation.Root({ n: Annotation<number>() });
    const graph = new StateGraph(State)
      .addNode("a", (s: { n?: number }) => ({ n: (s.n ?? 0) + 1 }))
      .addEdge(START, "a")
      .compile({ checkpointer: new MemorySaver() });
    const asA = thread();
    await graph.updateState(asA, { n: 5 }, "a");
    const asInput = thread();
    await graph.updateState(asInput, { n: 5 });
    const [a, input] = [await graph.getState(asA), await graph.getState(asInput)];
    expect([a.next, a.metadata?.step, input.next, input.metadata?.step]).toEqual([[], 0, ["a"], 0]);
    expect(await graph.invoke(null, asInput)).toEqual({ n: 6 });
  });
});

describe("updateState without values or a node (LangGraph: an empty checkpoint)", () => {
  for (const given of [null, undefined])
    it(`updateState(config, ${String(given)}) on an entrypoint keeps its value and what the next run finds`, async () => {
      const wf = summing();
      const config = thread();
      expect(await wf.invoke(1, config)).toBe(1);
      await wf.updateState(config, given as unknown as number);
      const state = await wf.getState(config);
      // LangGraph.js 1.7.3: { values: 1, next: [], source: "update", step: 1 }, then invoke(2) gives 3.
      expect(shown(state)).toEqual({ values: 1, next: [], source: "update", step: 1 });
      expect(await wf.invoke(2, config)).toBe(3);
    });

  it("keeps the question a paused StateGraph waits on: the answer still resumes it", async () => {
    const State = Annotation.Root({ x: Annotation<string>() });
    const graph = new StateGraph(State)
      .addNode("ask", () => ({ x: interrupt<string, string>("q?") }))
      .addEdge(START, "ask")
      .compile({ checkpointer: new MemorySaver() });
    const config = thread();
    await graph.invoke({ x: "" }, config);
    const before = (await graph.getState(config)).metadata?.step as number;
    await graph.updateState(config, null as never);
    const state = await graph.getState(config);
    // LangGraph.js 1.7.3 too: next ["ask"], source "update", a step on; the answer gives { x: "ans" }.
    expect([state.next, state.metadata?.source, state.metadata?.step]).toEqual([
      ["ask"],
      "update",
      before + 1,
    ]);
    expect(await graph.invoke(new Command({ resume: "ans" }), config)).toEqual({ x: "ans" });
  });
});

describe("updates updateState refuses, writing nothing", () => {
  it("a Command as an entrypoint's value (its update would write the entrypoint's own channels)", async () => {
    const wf = summing();
    const config = thread();
    await wf.invoke(1, config);
    await expect(
      wf.updateState(config, new Command({ update: { __previous__: 7 } }) as never),
    ).rejects.toBeInstanceOf(InvalidUpdateError);
    expect(await wf.invoke(2, config)).toBe(3);
  });

  it("one on a subgraph's namespace: the thread resumes as if it had not been asked", async () => {
    const Sub = Annotation.Root({ x: Annotation<string>() });
    const sub = new StateGraph(Sub)
      .addNode("s1", () => ({ x: interrupt<string, string>("q?") }))
      .addNode("s2", (s: { x: string }) => ({ x: `${s.x}!` }))
      .addEdge(START, "s1")
      .addEdge("s1", "s2")
      .compile();
    const Parent = Annotation.Root({ n: Annotation<number>(), x: Annotation<string>() });
    const graph = new StateGraph(Parent)
      .addNode("call", sub)
      .addEdge(START, "call")
      .compile({ checkpointer: new MemorySaver() });
    const config = thread();
    await graph.invoke({ n: 1 }, config);
    const subState = (await graph.getState(config, { subgraphs: true })).tasks[0]?.state as {
      config: { configurable: Record<string, unknown> };
    };
    expect(subState.config.configurable.checkpoint_ns).toMatch(/^call:/);
    await expect(graph.updateState(subState.config, { x: "edited" })).rejects.toBeInstanceOf(
      InvalidUpdateError,
    );
    expect(await graph.invoke(new Command({ resume: "ans" }), config)).toEqual({ n: 1, x: "ans!" });
  });
});

const List = Annotation.Root({
  l: Annotation<string[]>({ reducer: (a, b) => a.concat(b), default: () => [] }),
});

/** a → b → END, c on the side (reached only by a goto); `b` may route to c. */
function sideRoute(compile: Parameters<StateGraph<typeof List.spec>["compile"]>[0] = {}) {
  return new StateGraph(List)
    .addNode("a", () => ({ l: ["a"] }))
    .addNode("b", () => ({ l: ["b"] }), { ends: ["c"] })
    .addNode("c", () => ({ l: ["c"] }))
    .addEdge(START, "a")
    .addEdge("a", "b")
    .addEdge("c", "__end__")
    .compile({ checkpointer: new MemorySaver(), ...compile });
}

describe("updateState with a Command, as the node returning it", () => {
  it("routes by its goto: next is the goto's node, and the run goes there (LangGraph: next ['c'])", async () => {
    const graph = sideRoute();
    const config = thread();
    await graph.invoke({ l: [] }, config);
    await graph.updateState(config, new Command({ update: { l: ["edit"] }, goto: "c" }), "b");
    expect(shown(await graph.getState(config))).toMatchObject({
      values: { l: ["a", "b", "edit"] },
      next: ["c"],
    });
    expect(await graph.invoke(null, config)).toEqual({ l: ["a", "b", "edit", "c"] });
  });

  it("a goto of Sends: each a task with its own argument", async () => {
    const graph = sideRoute();
    const config = thread();
    await graph.invoke({ l: [] }, config);
    await graph.updateState(config, new Command({ goto: [new Send("c", { l: ["sent"] })] }), "b");
    expect((await graph.getState(config)).next).toEqual(["c"]);
    expect(await graph.invoke(null, config)).toEqual({ l: ["a", "b", "c"] });
  });

  it("refuses a goto to a name that is not a node, or a Command for the parent graph, writing nothing", async () => {
    const graph = sideRoute();
    const config = thread();
    await graph.invoke({ l: [] }, config);
    const before = await graph.getState(config);
    await expect(graph.updateState(config, new Command({ goto: "nowhere" }), "b")).rejects.toThrow(
      InvalidUpdateError,
    );
    await expect(
      graph.updateState(config, new Command({ update: { l: ["x"] }, graph: Command.PARENT }), "b"),
    ).rejects.toThrow(/parent graph/);
    expect((await graph.getState(config)).config).toEqual(before.config);
  });
});

describe("updateState(config, null | undefined, asNode): the node ran and wrote nothing", () => {
  for (const given of [null, undefined]) {
    it(`${String(given)} at a breakpoint before the node skips it (LangGraph: next ['b'])`, async () => {
      const graph = sideRoute({ interruptBefore: ["a"] });
      const config = thread();
      await graph.invoke({ l: [] }, config);
      await graph.updateState(config, given, "a");
      expect((await graph.getState(config)).next).toEqual(["b"]);
      expect(await graph.invoke(null, config)).toEqual({ l: ["b"] });
    });
  }
});
