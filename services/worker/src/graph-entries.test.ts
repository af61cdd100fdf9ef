import { InMemoryCache, InMemoryStore, MemorySaver, START, StateGraph, StateSchema } from "@layover/graph";
import { describe, expect, it } from "vitest";
import { z } from "zod";
import { servedGraphs } from "./graph-entries.ts";

const builder = new StateGraph(new StateSchema({ n: z.number().default(0) }))
  .addNode("a", () => ({}))
  .addEdge(START, "a");
const graph = builder.compile();
const saver = new MemorySaver();
const store = new InMemoryStore(); // stands in for the worker's Postgres store
const cache = { get: async () => [], set: async () => {}, clear: async () => {} } as never; // and its cache
const handler = { name: "tally", handleLLMEnd() {} };

describe("a graph module's entries", () => {
  it("are served as given: a compiled graph, or one with its interrupt defaults (a duration, a JSON value)", () => {
    const served = servedGraphs(
      {
        plain: graph,
        timed: { graph, interruptTimeout: "1h", onTimeout: { action: "reject" }, durability: "exit" },
        traced: { graph, callbacks: [handler] },
      },
      saver,
      store,
      cache,
    );
    expect(served.get("plain")?.timeoutMs).toBeUndefined();
    expect(served.get("traced")?.callbacks).toEqual([handler]);
    expect(served.get("timed")).toMatchObject({
      timeoutMs: 3_600_000,
      onTimeout: { action: "reject" },
      durability: "exit",
    });
  });

  it("reach the worker's store, unless compiled with a (shared) store of their own", () => {
    const own = { batch: async () => [] } as never;
    const served = servedGraphs(
      { plain: graph, owned: builder.compile({ store: own }) },
      saver,
      store,
      cache,
    );
    expect(served.get("plain")?.graph.store).toBe(store);
    expect(served.get("owned")?.graph.store).toBe(own);
  });

  it("reach the worker's node cache (or a shared one of their own), their entries kept under their graph id", () => {
    const own = { get: async () => [], set: async () => {}, clear: async () => {} } as never;
    const served = servedGraphs(
      { plain: graph, owned: builder.compile({ cache: own }) },
      saver,
      store,
      cache,
    );
    expect([served.get("plain")?.graph.cache, served.get("plain")?.graph.cacheName]).toEqual([
      cache,
      "plain",
    ]);
    expect([served.get("owned")?.graph.cache, served.get("owned")?.graph.cacheName]).toEqual([own, "owned"]);
  });

  it("are refused at start, naming the graph and what to give, where runs would have failed later", () => {
    const cases: Array<[unknown, string]> = [
      [{ g: builder }, 'Graph "g" in the graph module: a StateGraph that was not compiled'],
      [{ g: null }, 'Graph "g" in the graph module: must be a compiled graph'],
      [{ g: { graph, interruptTimeout: -5 } }, "interruptTimeout must be milliseconds above 0"],
      [{ g: { graph, interruptTimeout: "soon" } }, "interruptTimeout must be milliseconds above 0"],
      [{ g: { graph, onTimeout: () => ({ action: "reject" }) } }, "onTimeout must be JSON-serialisable"],
      [{ g: { graph, timeout: 5 } }, "unknown option timeout"],
      [{ g: { graph, callbacks: "log" } }, "callbacks must be a list of LangChain callback handlers"],
      [{ g: { graph, callbacks: [() => {}] } }, "callbacks must be a list of LangChain callback handlers"],
      [{ g: { graph: builder } }, '"graph" must be a compiled graph'],
      [[graph], "must export its graphs as an object of graph id"],
      [{ g: builder.compile({ store: new InMemoryStore() }) }, "compiled with an InMemoryStore"],
      [{ g: builder.compile({ cache: new InMemoryCache() }) }, "compiled with an InMemoryCache"],
      // A subclass (one that logs, say) keeps its entries in one process just the same.
      [{ g: builder.compile({ store: new (class Memories extends InMemoryStore {})() }) }, "InMemoryStore"],
      [{ g: builder.compile({ cache: new (class Traced extends InMemoryCache {})() }) }, "InMemoryCache"],
    ];
    for (const [entries, message] of cases) {
      expect(() => servedGraphs(entries, saver, store, cache), message).toThrow(
        expect.objectContaining({ code: "INVALID_CONFIG", message: expect.stringContaining(message) }),
      );
    }
  });
});
