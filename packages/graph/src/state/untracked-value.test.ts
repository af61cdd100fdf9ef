// UntrackedValue, as LangGraph.js 1.7.3 runs it (compared in a script against it): a state key
// that lives while one invoke runs and is never stored — not in checkpoints, not in pending
// writes, not in history — so it may hold what no checkpoint can (a client, a cache).
import { describe, expect, it } from "vitest";
import { z } from "zod";
import {
  Command,
  END,
  interrupt,
  MemorySaver,
  Send,
  START,
  StateGraph,
  StateSchema,
  UntrackedValue,
} from "../index.ts";
import type { Emitter, StreamMode } from "../stream.ts";

const State = new StateSchema({
  n: z.number().default(0),
  cache: new UntrackedValue(z.string()),
  loose: new UntrackedValue(z.number(), { guard: false }),
});

/** What a node can hold there and no checkpoint can: a function. */
const client = { call: () => "called" };

describe("UntrackedValue", () => {
  it("is seen by the supersteps of one invoke and returned by it, but never stored", async () => {
    const seen: unknown[] = [];
    const saver = new MemorySaver();
    const graph = new StateGraph(State)
      .addNode("a", (s) => {
        seen.push(["a", s.cache]);
        return { n: s.n + 1, cache: "from-a" };
      })
      .addNode("b", (s) => {
        seen.push(["b", s.cache]);
        return { n: s.n + 10 };
      })
      .addEdge(START, "a")
      .addEdge("a", "b")
      .addEdge("b", END)
      .compile({ checkpointer: saver });
    const config = { configurable: { thread_id: "t" } };
    expect(await graph.invoke({ cache: "input" }, config)).toEqual({ n: 11, cache: "from-a" });
    expect(seen).toEqual([
      ["a", "input"],
      ["b", "from-a"],
    ]);
    expect((await graph.getState(config)).values).toEqual({ n: 11 });
    for await (const snapshot of graph.getStateHistory(config)) {
      expect(snapshot.values).not.toHaveProperty("cache");
      expect(JSON.stringify(snapshot.metadata?.writes ?? {})).not.toContain("from-a");
    }
  });

  it("is gone after a pause: the resumed run starts without it, as a new invoke does", async () => {
    const seen: unknown[] = [];
    const graph = new StateGraph(State)
      .addNode("write", () => ({ cache: "from-write", n: 1 }))
      .addNode("ask", (s) => {
        seen.push(["ask", s.cache]);
        interrupt("ok?");
        return {};
      })
      .addNode("after", (s) => {
        seen.push(["after", s.cache]);
        return {};
      })
      .addEdge(START, "write")
      .addEdge(START, "ask")
      .addEdge(["write", "ask"], "after")
      .compile({ checkpointer: new MemorySaver() });
    const config = { configurable: { thread_id: "t" } };
    const first = await graph.invoke({ cache: "in" }, config);
    expect(first).toMatchObject({ n: 1, cache: "from-write" });
    // The finished task's write is pending, stored without the untracked key.
    expect(await graph.invoke(new Command({ resume: "yes" }), config)).toEqual({ n: 1 });
    expect(seen).toEqual([
      ["ask", "in"],
      ["ask", undefined],
      ["after", undefined],
    ]);
  });

  it("holds a value no checkpoint could (a function), under every durability", async () => {
    for (const durability of ["sync", "async", "exit"] as const) {
      const graph = new StateGraph(
        new StateSchema({ n: z.number().default(0), client: new UntrackedValue() }),
      )
        .addNode("connect", () => ({ client }))
        .addNode("use", (s) => ({ n: (s.client as typeof client).call().length }))
        .addEdge(START, "connect")
        .addEdge("connect", "use")
        .compile({ checkpointer: new MemorySaver() });
      const config = { configurable: { thread_id: durability }, durability };
      expect(await graph.invoke({}, config)).toEqual({ n: 6, client });
      expect((await graph.getState(config)).values).toEqual({ n: 6 });
    }
  });

  it("refuses two writes in one superstep unless guard is false, when the last is kept", async () => {
    const twice = (key: "cache" | "loose", values: [unknown, unknown]) =>
      new StateGraph(State)
        .addNode("x", () => ({ [key]: values[0] }))
        .addNode("y", () => ({ [key]: values[1] }))
        .addEdge(START, "x")
        .addEdge(START, "y")
        .compile();
    await expect(twice("cache", ["1", "2"]).invoke({})).rejects.toMatchObject({
      code: "INVALID_UPDATE",
      message: expect.stringContaining('State key "cache" received 2 values in one superstep'),
    });
    expect(await twice("loose", [1, 2]).invoke({})).toEqual({ n: 0, loose: 2 });
  });

  it("is checked against its schema when given", async () => {
    const graph = new StateGraph(State)
      .addNode("w", () => ({ cache: 5 as never }))
      .addEdge(START, "w")
      .compile();
    await expect(graph.invoke({})).rejects.toMatchObject({ code: "INVALID_UPDATE" });
  });

  it("is shown by the values stream, as LangGraph's", async () => {
    const graph = new StateGraph(State)
      .addNode("x", () => ({ cache: "c", n: 5 }))
      .addEdge(START, "x")
      .compile({ checkpointer: new MemorySaver() });
    const chunks = [];
    for await (const chunk of await graph.stream(
      { n: 1 },
      { configurable: { thread_id: "s" }, streamMode: "values" },
    ))
      chunks.push(chunk);
    expect(chunks).toEqual([{ n: 1 }, { n: 5, cache: "c" }]);
  });

  it("takes its schema's default wherever it has no value, after a pause too, as LangGraph's", async () => {
    const seen: unknown[] = [];
    const graph = new StateGraph(
      new StateSchema({ n: z.number().default(0), u: new UntrackedValue(z.string().default("dflt")) }),
    )
      .addNode("ask", (s) => {
        seen.push(s.u);
        interrupt("ok?");
        return { n: 1 };
      })
      .addEdge(START, "ask")
      .compile({ checkpointer: new MemorySaver() });
    const config = { configurable: { thread_id: "t" } };
    await graph.invoke({}, config);
    expect((await graph.getState(config)).values).toEqual({ n: 0, u: "dflt" });
    await graph.invoke(new Command({ resume: "yes" }), config);
    expect(seen).toEqual(["dflt", "dflt"]);
  });
});

/** A graph whose first node puts a client (a function inside) in an untracked key. */
function withClient() {
  return new StateSchema({ n: z.number().default(0), client: new UntrackedValue<typeof client>() });
}

describe("UntrackedValue holding what no checkpoint can, wherever state goes", () => {
  it("into a subgraph: the call's input key leaves it out, and a paused subgraph resumes where it stopped", async () => {
    const calls: string[] = [];
    const sub = new StateGraph(withClient())
      .addNode("inner", (s) => {
        calls.push(`inner ${s.client?.call()}`);
        const answer = interrupt("sub?");
        return { n: s.n + String(answer).length };
      })
      .addEdge(START, "inner")
      .compile();
    const graph = new StateGraph(withClient())
      .addNode("connect", () => ({ client }))
      .addNode("sub", sub)
      .addEdge(START, "connect")
      .addEdge("connect", "sub")
      .compile({ checkpointer: new MemorySaver() });
    const config = { configurable: { thread_id: "t" } };
    await graph.invoke({}, config);
    const done = await graph.invoke(new Command({ resume: "yes" }), config);
    expect(done).toMatchObject({ n: 3 });
    expect(calls).toEqual(["inner called", "inner undefined"]); // the resumed parent has no client
  });

  it("into a cached node's default key, and into a Send's state (stored without it)", async () => {
    const saver = new MemorySaver();
    const graph = new StateGraph(withClient())
      .addNode("connect", () => ({ client }))
      .addNode("use", (s) => ({ n: s.n + (s.client ? 1 : 100) }), { cachePolicy: {} })
      .addNode("fan", (s) => new Command({ goto: [new Send("use", { ...s })] }), { ends: ["use"] })
      .addEdge(START, "connect")
      .addEdge("connect", "use")
      .addEdge("connect", "fan")
      .compile({ checkpointer: saver, cache: new (await import("../index.ts")).InMemoryCache() });
    const config = { configurable: { thread_id: "t" } };
    const result = await graph.invoke({}, config);
    expect(result.n).toBeGreaterThan(0);
    for await (const snapshot of graph.getStateHistory(config))
      expect(JSON.stringify(snapshot)).not.toContain("call");
  });

  it("in a Command's update and an updateState Command: history records them without it", async () => {
    const graph = new StateGraph(withClient())
      .addNode("use", (s) => ({ n: s.client ? 1 : 2 }))
      .addEdge(START, "use")
      .compile({ checkpointer: new MemorySaver() });
    const config = { configurable: { thread_id: "t" } };
    await graph.invoke(new Command({ update: { client, n: 5 }, goto: "use" }), config);
    await graph.updateState(config, new Command({ update: { client, n: 7 } }) as never, "use");
    await graph.invoke(new Command({ update: [["client", client]] as never, goto: "use" }), config);
    for await (const snapshot of graph.getStateHistory(config)) {
      expect(JSON.stringify(snapshot.metadata?.writes ?? {})).not.toContain("client");
    }
    expect((await graph.getState(config)).values).toEqual({ n: 1 });
  });

  it("in the chunks a worker's stream sends (leavesProcess): updates, values, tasks, and a subgraph's", async () => {
    const sub = new StateGraph(
      new StateSchema({ n: z.number().default(0), token: new UntrackedValue<string>() }),
    )
      .addNode("mint", () => ({ token: "SECRET-SUB" }))
      .addEdge(START, "mint")
      .compile();
    const graph = new StateGraph(
      new StateSchema({ n: z.number().default(0), token: new UntrackedValue<string>() }),
    )
      .addNode("open", () => ({ token: "SECRET", n: 1 }))
      .addNode("use", (s) => ({ n: s.token === "SECRET" ? 2 : 0 }))
      .addNode("sub", sub)
      .addEdge(START, "open")
      .addEdge("open", "use")
      .addEdge("use", "sub")
      .compile({ checkpointer: new MemorySaver() });
    const chunks: unknown[] = [];
    const emit: Emitter = {
      modes: new Set<StreamMode>(["updates", "values", "tasks"]),
      push: (mode, chunk, ns) => chunks.push([mode, chunk, ns]),
      subgraphs: true,
      leavesProcess: true,
    };
    const stepper = graph.stepper({ configurable: { thread_id: "w" } }, { emit });
    await stepper.prepare({});
    let outcome = await stepper.step();
    while (outcome.status === "next") outcome = await stepper.step();
    expect(outcome.status).toBe("done");
    expect(chunks.length).toBeGreaterThan(6);
    expect(JSON.stringify(chunks)).not.toContain("SECRET");
    expect(chunks).toContainEqual(["updates", { use: { n: 2 } }, undefined]); // "use" still saw it
  });
});
