// Deferred nodes (addNode(…, { defer: true })): a node that runs once every other branch has
// finished, as LangGraph's map-reduce guide uses one. Expectations recorded from LangGraph.js
// 1.7.3 running the same graphs (Layover's step numbers are one lower, as everywhere).
import { randomUUID } from "node:crypto";
import { describe, expect, it } from "vitest";
import {
  Annotation,
  Command,
  END,
  GraphRecursionError,
  interrupt,
  MemorySaver,
  type NodeConfig,
  Send,
  START,
  StateGraph,
} from "./index.ts";

const State = Annotation.Root({
  aggregate: Annotation<string[]>({ reducer: (a, b) => a.concat(b), default: () => [] }),
});
type S = typeof State.State;

/** A node that appends its name; `ran` records "step:node" as each runs. */
function recorder() {
  const ran: string[] = [];
  const node = (name: string) => (_state: S, config: NodeConfig) => {
    ran.push(`${config.metadata.langgraph_step}:${name}`);
    return { aggregate: [name] };
  };
  return { ran, node };
}

/** The docs' example: a → (b → b_2, c) → d. */
function docsGraph(defer: boolean, options: { ask?: boolean; checkpointer?: MemorySaver } = {}) {
  const { ran, node } = recorder();
  const b2 = options.ask
    ? () => ({ aggregate: [`b_2(${interrupt<string, string>("ask-b_2")})`] })
    : node("b_2");
  const graph = new StateGraph(State)
    .addNode("a", node("a"))
    .addNode("b", node("b"))
    .addNode("b_2", b2)
    .addNode("c", node("c"))
    .addNode("d", node("d"), { defer })
    .addEdge(START, "a")
    .addEdge("a", "b")
    .addEdge("a", "c")
    .addEdge("b", "b_2")
    .addEdge("b_2", "d")
    .addEdge("c", "d")
    .addEdge("d", END)
    .compile(options.checkpointer ? { checkpointer: options.checkpointer } : {});
  return { graph, ran };
}

describe("deferred nodes", () => {
  it("runs once, after the longer branch, where an undeferred node runs once per branch", async () => {
    const deferred = docsGraph(true);
    expect(await deferred.graph.invoke({ aggregate: [] })).toEqual({
      aggregate: ["a", "b", "c", "b_2", "d"],
    });
    expect(deferred.ran).toEqual(["0:a", "1:b", "1:c", "2:b_2", "3:d"]);
    const plain = docsGraph(false);
    expect(await plain.graph.invoke({ aggregate: [] })).toEqual({
      aggregate: ["a", "b", "c", "b_2", "d", "d"],
    });
    expect(plain.ran).toEqual(["0:a", "1:b", "1:c", "2:b_2", "2:d", "3:d"]);
  });

  it("a deferred join waits like a deferred node", async () => {
    const { ran, node } = recorder();
    const graph = new StateGraph(State)
      .addNode("a", node("a"))
      .addNode("b", node("b"))
      .addNode("b_2", node("b_2"))
      .addNode("c", node("c"))
      .addNode("x", node("x"))
      .addNode("x_2", node("x_2"))
      .addNode("x_3", node("x_3"))
      .addNode("d", node("d"), { defer: true })
      .addEdge(START, "a")
      .addEdge("a", "b")
      .addEdge("a", "c")
      .addEdge("a", "x")
      .addEdge("b", "b_2")
      .addEdge("x", "x_2")
      .addEdge("x_2", "x_3")
      .addEdge(["b_2", "c"], "d")
      .compile();
    await graph.invoke({ aggregate: [] });
    // The join completes after b_2 (step 2); d waits for the unrelated x branch to drain.
    expect(ran.filter((r) => r.endsWith(":d") || r.endsWith(":x_3"))).toEqual(["3:x_3", "4:d"]);
  });

  it("while a branch waits for an answer, the deferred node is not next; after the resume it runs once", async () => {
    const { graph, ran } = docsGraph(true, { ask: true, checkpointer: new MemorySaver() });
    const config = { configurable: { thread_id: randomUUID() } };
    await graph.invoke({ aggregate: [] }, config);
    const paused = await graph.getState(config);
    expect(paused.next).toEqual(["b_2"]);
    expect(paused.values).toEqual({ aggregate: ["a", "b", "c"] });
    expect(await graph.invoke(new Command({ resume: "ok" }), config)).toEqual({
      aggregate: ["a", "b", "c", "b_2(ok)", "d"],
    });
    expect(ran).toEqual(["0:a", "1:b", "1:c", "3:d"]);
    const steps = [];
    for await (const snapshot of graph.getStateHistory(config))
      steps.unshift([snapshot.metadata?.step, snapshot.next]);
    expect(steps.slice(-2)).toEqual([
      [2, ["d"]],
      [3, []],
    ]);
  });

  it("a Send to a deferred node runs in the next superstep: only edges wait", async () => {
    const { ran, node } = recorder();
    const graph = new StateGraph(State)
      .addNode("a", node("a"))
      .addNode("b", node("b"))
      .addNode("b_2", node("b_2"))
      .addNode("d", (state: S, config: NodeConfig) => node(`d(${state.aggregate.at(-1)})`)(state, config), {
        defer: true,
      })
      .addEdge(START, "a")
      .addConditionalEdges("a", () => [new Send("d", { aggregate: ["sent"] }), "b"])
      .addEdge("b", "b_2")
      .compile();
    expect(await graph.invoke({ aggregate: [] })).toEqual({ aggregate: ["a", "b", "d(sent)", "b_2"] });
    // As LangGraph's: a superstep's Send tasks start before its node tasks.
    expect(ran).toEqual(["0:a", "1:d(sent)", "1:b", "2:b_2"]);
  });

  it("a breakpoint before a deferred node fires when it is planned, not when it is reached", async () => {
    const checkpointer = new MemorySaver();
    const { graph } = docsGraph(true, { checkpointer });
    const paused = graph.withCheckpointer(checkpointer);
    const config = { configurable: { thread_id: randomUUID() } };
    await paused.invoke({ aggregate: [] }, { ...config, interruptBefore: ["d"] });
    const state = await paused.getState(config);
    expect([state.next, state.values]).toEqual([["d"], { aggregate: ["a", "b", "c", "b_2"] }]);
  });

  it("waiting counts supersteps toward the recursion limit: deferring can raise the limit a graph needs", async () => {
    const graph = (defer: boolean) => {
      const { node } = recorder();
      return new StateGraph(State)
        .addNode("a", node("a"))
        .addNode("b", node("b"))
        .addNode("b_2", node("b_2"))
        .addNode("d", node("d"), { defer })
        .addEdge(START, "a")
        .addEdge("a", "b")
        .addEdge("a", "d")
        .addEdge("b", "b_2")
        .compile();
    };
    expect(await graph(false).invoke({ aggregate: [] }, { recursionLimit: 3 })).toEqual({
      aggregate: ["a", "b", "d", "b_2"],
    });
    await expect(graph(true).invoke({ aggregate: [] }, { recursionLimit: 3 })).rejects.toThrow(
      GraphRecursionError,
    );
    expect(await graph(true).invoke({ aggregate: [] }, { recursionLimit: 4 })).toEqual({
      aggregate: ["a", "b", "b_2", "d"],
    });
  });
});
