// The node cache where it meets the rest of a run: a task's hit kept for a resume, a cache that
// fails (the run goes on without it, told), inputs JSON cannot tell apart, entries another version
// of the graph kept, and streamEvents on hits.
import { randomUUID } from "node:crypto";
import { setTimeout as sleep } from "node:timers/promises";
import { describe, expect, it } from "vitest";
import {
  Annotation,
  Command,
  entrypoint,
  InMemoryCache,
  interrupt,
  MemorySaver,
  START,
  StateGraph,
  task,
} from "./index.ts";

const thread = () => ({ configurable: { thread_id: randomUUID() } });
const State = Annotation.Root({ x: Annotation<number>, y: Annotation<number>, z: Annotation<string> });

async function events(iter: AsyncIterable<{ event: string; name: string }>): Promise<string[]> {
  const all: string[] = [];
  for await (const e of iter) all.push(`${e.event}:${e.name}`);
  return all;
}

describe("node cache edges", () => {
  // A task the cache answered is a finished call: the superstep keeps it when it pauses.
  for (const durability of ["exit", "async", "sync"] as const) {
    it(`a task hit before a pause is kept for the resume (durability ${durability})`, async () => {
      const ran: number[] = [];
      const charge = task({ name: "charge", cachePolicy: { ttl: 60 } }, async (n: number) => {
        ran.push(n);
        return n * 100;
      });
      const wf = entrypoint(
        { name: "wf", checkpointer: new MemorySaver(), cache: new InMemoryCache() },
        async (n: number) => {
          const paid = await charge(n);
          const ok = interrupt<string, string>("confirm?");
          return { paid, ok };
        },
      );
      await wf.invoke(2, { ...thread(), durability }); // warms the cache
      const config = { ...thread(), durability };
      await wf.invoke(2, config); // charge hits, then the superstep pauses
      expect(ran).toEqual([2]);
      await wf.clearCache(); // stands for the entry's ttl running out before the person answers
      await expect(wf.invoke(new Command({ resume: "yes" }), config)).resolves.toEqual({
        paid: 200,
        ok: "yes",
      });
      expect(ran).toEqual([2]);
    });
  }

  // The cache only saves work: one that fails is reported, and the run goes on without it.
  function failingCache(failing: "get" | "set") {
    const cache = new InMemoryCache();
    cache[failing] = async () => {
      throw new Error("cache unavailable");
    };
    const reported: string[] = [];
    return { cache, reported, onError: (error: unknown) => void reported.push((error as Error).message) };
  }

  for (const failing of ["get", "set"] as const)
    it(`a cache whose ${failing} fails is reported, and the run and its siblings finish`, async () => {
      const { cache, reported, onError } = failingCache(failing);
      const ran: string[] = [];
      const graph = new StateGraph(State)
        .addNode("lookup", (s) => ({ y: s.x * 10 }), { cachePolicy: true })
        .addNode("other", async () => {
          await sleep(30);
          ran.push("other");
          return { z: "done" };
        })
        .addEdge(START, "lookup")
        .addEdge(START, "other")
        .compile({ checkpointer: new MemorySaver() })
        .withCache(cache, "g", onError);
      await expect(graph.invoke({ x: 1 }, thread())).resolves.toEqual({ x: 1, y: 10, z: "done" });
      expect([ran, reported]).toEqual([["other"], ["cache unavailable"]]);
    });

  it("a task's cache that fails is reported, and the task runs", async () => {
    const { cache, reported, onError } = failingCache("set");
    const sq = task({ name: "sq", cachePolicy: true }, async (n: number) => n * n);
    const wf = entrypoint({ name: "wf", checkpointer: new MemorySaver() }, async (n: number) => sq(n));
    await expect(wf.withCache(cache, "wf", onError).invoke(3, thread())).resolves.toBe(9);
    expect(reported).toEqual(["cache unavailable"]);
  });

  // The key's text is the checkpoint serializer's: a Map's entries count (JSON gives "{}").
  it("does not give one Map input's cached writes to another Map input", async () => {
    const M = Annotation.Root({ prices: Annotation<Map<string, number>>, total: Annotation<number> });
    const graph = new StateGraph(M)
      .addNode("sum", (s) => ({ total: [...s.prices.values()].reduce((a, b) => a + b, 0) }), {
        cachePolicy: true,
      })
      .addEdge(START, "sum")
      .compile({ checkpointer: new MemorySaver(), cache: new InMemoryCache() });
    expect((await graph.invoke({ prices: new Map([["a", 1]]) }, thread())).total).toBe(1);
    expect((await graph.invoke({ prices: new Map([["a", 2]]) }, thread())).total).toBe(2);
  });

  // A node or task the cache answered never runs: no chain events, as LangGraph's.
  it("streamEvents: a hit node has no on_chain_start without its on_chain_end", async () => {
    const graph = new StateGraph(State)
      .addNode("lookup", (s) => ({ y: s.x * 10 }), { cachePolicy: true })
      .addEdge(START, "lookup")
      .compile({ cache: new InMemoryCache() });
    await graph.invoke({ x: 1 });
    const warm = await events(graph.streamEvents({ x: 1 }, { version: "v2" }));
    const starts = warm.filter((e) => e === "on_chain_start:lookup").length;
    const ends = warm.filter((e) => e === "on_chain_end:lookup").length;
    expect([starts, ends]).toEqual([0, 0]);
  });

  it("streamEvents: a hit task has no on_chain_start without its on_chain_end", async () => {
    const sq = task({ name: "sq", cachePolicy: true }, async (n: number) => n * n);
    const wf = entrypoint(
      { name: "wf", checkpointer: new MemorySaver(), cache: new InMemoryCache() },
      async (n: number) => sq(n),
    );
    await wf.invoke(2, thread());
    const warm = await events(wf.streamEvents(2, { ...thread(), version: "v2" }));
    const starts = warm.filter((e) => e === "on_chain_start:sq").length;
    const ends = warm.filter((e) => e === "on_chain_end:sq").length;
    expect([starts, ends]).toEqual([0, 0]);
  });

  // Writes another version of the graph kept, to a channel this one lacks, are a miss.
  it("a new version of a served graph is not failed by the previous version's entries", async () => {
    const cache = new InMemoryCache(); // stands for the deployment's PostgresCache
    const V1 = Annotation.Root({ x: Annotation<number>, old: Annotation<number> });
    const V2 = Annotation.Root({ x: Annotation<number>, fresh: Annotation<number> });
    const v1 = new StateGraph(V1)
      .addNode("n", (s) => ({ old: s.x }), { cachePolicy: true })
      .addEdge(START, "n")
      .compile()
      .withCache(cache, "my-graph");
    const v2 = new StateGraph(V2)
      .addNode("n", (s) => ({ fresh: s.x }), { cachePolicy: true })
      .addEdge(START, "n")
      .compile()
      .withCache(cache, "my-graph");
    await v1.invoke({ x: 1 });
    await expect(v2.invoke({ x: 1 })).resolves.toEqual({ x: 1, fresh: 1 });
  });
});
