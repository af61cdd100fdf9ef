// "values" streams the state after the input and each superstep that wrote to it, as
// LangGraph's: a superstep whose nodes wrote no state key (a router returning
// Command({ goto }), a node returning {}) streams no chunk. Expectations recorded from
// LangGraph.js 1.7.3 running the same graphs.
import { randomUUID } from "node:crypto";
import { describe, expect, it } from "vitest";
import { Annotation, Command, MemorySaver, START, StateGraph } from "./index.ts";
import { collect as chunks } from "./testing/helpers.ts";

const State = Annotation.Root({ a: Annotation<number>, b: Annotation<number> });

describe('"values" after supersteps that wrote nothing', () => {
  it("streams no chunk for a superstep whose nodes wrote no state key", async () => {
    const graph = new StateGraph(State)
      .addNode("route", () => new Command({ goto: "work" }), { ends: ["work"] })
      .addNode("work", () => ({ a: 1 }))
      .addNode("idle", () => ({}))
      .addEdge(START, "route")
      .addEdge("work", "idle")
      .compile();
    expect(await chunks(await graph.stream({ b: 0 }, { streamMode: ["values", "updates"] }))).toEqual([
      ["values", { b: 0 }],
      ["updates", { route: {} }],
      ["updates", { work: { a: 1 } }],
      ["values", { a: 1, b: 0 }],
      ["updates", { idle: {} }],
    ]);
  });

  it("nor for an input that writes nothing; a continue or a resume streams where it starts from", async () => {
    const graph = new StateGraph(State)
      .addNode("x", () => ({}))
      .addNode("y", () => ({ a: 1 }))
      .addEdge(START, "x")
      .addEdge("x", "y")
      .compile({ checkpointer: new MemorySaver(), interruptAfter: ["x"] });
    const config = { configurable: { thread_id: randomUUID() }, streamMode: "values" as const };
    expect(await chunks(await graph.stream({}, config))).toEqual([{ __interrupt__: [] }]);
    expect(await chunks(await graph.stream(null, config))).toEqual([{}, { a: 1 }]);
  });
});
