// LangGraph's node cache (cachePolicy + compile({ cache })), nodes and functional tasks alike.
// Expectations recorded from LangGraph.js 1.7.3 running the same graphs, except where a comment
// says Layover differs.
import { randomUUID } from "node:crypto";
import { setTimeout as sleep } from "node:timers/promises";
import { describe, expect, it } from "vitest";
import {
  Annotation,
  type CachePolicy,
  Command,
  END,
  entrypoint,
  InMemoryCache,
  InvalidGraphError,
  interrupt,
  MemorySaver,
  START,
  StateGraph,
  task,
} from "./index.ts";

const thread = () => ({ configurable: { thread_id: randomUUID() } });

async function chunks(stream: Promise<AsyncIterableIterator<unknown>>): Promise<unknown[]> {
  const all: unknown[] = [];
  for await (const chunk of await stream) all.push(chunk);
  return all;
}

const State = Annotation.Root({ x: Annotation<number>, y: Annotation<number> });

/** x → expensive (y = 10·x, counted) → END, with `policy`, compiled with `cache`. */
function expensiveGraph(policy: CachePolicy | boolean | undefined, cache?: InMemoryCache, name?: string) {
  const ran: number[] = [];
  const graph = new StateGraph(State)
    .addNode(
      "expensive",
      (state) => {
        ran.push(state.x);
        return { y: state.x * 10 };
      },
      { cachePolicy: policy },
    )
    .addEdge(START, "expensive")
    .addEdge("expensive", END)
    .compile({ checkpointer: new MemorySaver(), cache, name });
  return { graph, ran };
}

describe("node cache", () => {
  it("gives a node's writes back for the same input, on any thread, streamed marked cached", async () => {
    const { graph, ran } = expensiveGraph({ ttl: 60 }, new InMemoryCache());
    await expect(graph.invoke({ x: 1 }, thread())).resolves.toEqual({ x: 1, y: 10 });
    const updates = await chunks(graph.stream({ x: 1 }, thread()));
    expect(updates).toEqual([{ expensive: { y: 10 }, __metadata__: { cached: true } }]);
    expect(ran).toEqual([1]);
    await expect(graph.invoke({ x: 2 }, thread())).resolves.toEqual({ x: 2, y: 20 });
    expect(ran).toEqual([1, 2]);
    // A hit is a task that started and did not run: no result event, as LangGraph's.
    const events = (await chunks(graph.stream({ x: 2 }, { ...thread(), streamMode: "tasks" }))) as object[];
    expect(events.map((e) => ("input" in e ? "start" : "result"))).toEqual(["start"]);
    // What a hit wrote is the thread's state, as a run's.
    const config = thread();
    await graph.invoke({ x: 2 }, config);
    expect((await graph.getState(config)).values).toEqual({ x: 2, y: 20 });
    expect(ran).toEqual([1, 2]);
  });

  it("keeps an entry for its ttl in seconds; without a cache, or without a policy, the node always runs", async () => {
    const short = expensiveGraph({ ttl: 0.2 }, new InMemoryCache());
    await short.graph.invoke({ x: 1 }, thread());
    await short.graph.invoke({ x: 1 }, thread());
    await sleep(300);
    await short.graph.invoke({ x: 1 }, thread());
    expect(short.ran).toEqual([1, 1]);
    for (const { graph, ran } of [expensiveGraph(true), expensiveGraph(undefined, new InMemoryCache())]) {
      await graph.invoke({ x: 1 }, thread());
      await graph.invoke({ x: 1 }, thread());
      expect(ran).toEqual([1, 1]);
    }
  });

  it("keys by what keyFunc makes of [input]", async () => {
    const seen: unknown[] = [];
    const keyFunc = (input: unknown) => {
      seen.push(input);
      return String((input as Array<{ x: number }>)[0]?.x);
    };
    const { graph, ran } = expensiveGraph({ keyFunc }, new InMemoryCache());
    await graph.invoke({ x: 3 }, thread());
    await graph.invoke({ x: 3, y: 999 }, thread()); // y is not in the key: a hit
    expect(ran).toEqual([3]);
    expect(seen[0]).toEqual([{ x: 3 }]);
  });

  it("does not keep a node that asked a person (LangGraph.js keeps its answer for the next thread)", async () => {
    let asked = 0;
    const graph = new StateGraph(State)
      .addNode(
        "approve",
        (state) => {
          asked += 1;
          return { y: interrupt<string, number>("how much?") + state.x };
        },
        { cachePolicy: true },
      )
      .addEdge(START, "approve")
      .compile({ checkpointer: new MemorySaver(), cache: new InMemoryCache() });
    for (const answer of [5, 6]) {
      const config = thread();
      await graph.invoke({ x: 1 }, config);
      await expect(graph.invoke(new Command({ resume: answer }), config)).resolves.toEqual({
        x: 1,
        y: answer + 1,
      });
    }
    expect(asked).toBe(4);
  });

  it("gives back a cached node's routing too, and keeps nothing of a node that failed", async () => {
    let fail = true;
    const routed: string[] = [];
    const graph = new StateGraph(State)
      .addNode(
        "decide",
        (state) => {
          if (fail) throw new Error("flaky");
          return { y: state.x };
        },
        { cachePolicy: true },
      )
      .addNode("big", () => ({ y: 1000 }))
      .addNode("small", () => ({ y: 0 }))
      .addEdge(START, "decide")
      .addConditionalEdges("decide", (state) => {
        routed.push("router");
        return state.y > 5 ? "big" : "small";
      })
      .compile({ cache: new InMemoryCache() });
    await expect(graph.invoke({ x: 9 })).rejects.toThrow("flaky");
    fail = false;
    await expect(graph.invoke({ x: 9 })).resolves.toEqual({ x: 9, y: 1000 });
    await expect(graph.invoke({ x: 9 })).resolves.toEqual({ x: 9, y: 1000 });
    expect(routed).toEqual(["router"]); // the hit's routing write was kept with its update
  });

  it("clearCache() removes this graph's entries, not another's in the same cache", async () => {
    const cache = new InMemoryCache();
    const one = expensiveGraph(true, cache, "one");
    const two = expensiveGraph(true, cache, "two");
    for (const g of [one, two]) await g.graph.invoke({ x: 1 }, thread());
    await one.graph.clearCache();
    for (const g of [one, two]) await g.graph.invoke({ x: 1 }, thread());
    expect([one.ran, two.ran]).toEqual([[1, 1], [1]]);
  });

  it("refuses a policy or cache it cannot use, and fails a node whose keyFunc gives no string", async () => {
    const refused = (policy: unknown) => () =>
      new StateGraph(State).addNode("n", () => ({}), { cachePolicy: policy as never });
    expect(refused({ ttl: -1 })).toThrow(/ttl is seconds above 0/);
    expect(refused({ ttl: 1, key: "x" })).toThrow(/has only ttl and keyFunc/);
    expect(refused("yes")).toThrow(InvalidGraphError);
    expect(() =>
      new StateGraph(State)
        .addNode("n", () => ({}))
        .addEdge(START, "n")
        .compile({ cache: {} as never }),
    ).toThrow(/takes a cache/);
    const { graph, ran } = expensiveGraph({ keyFunc: () => 42 as never }, new InMemoryCache());
    await expect(graph.invoke({ x: 1 }, thread())).rejects.toThrow(/must return a string/);
    expect(ran).toEqual([]);
  });
});

describe("task cache (functional API)", () => {
  it("gives a task's result back for the same arguments, across runs and threads", async () => {
    const ran: number[] = [];
    const square = task({ name: "square", cachePolicy: { ttl: 60 } }, async (n: number) => {
      ran.push(n);
      return n * n;
    });
    const wf = entrypoint(
      { name: "wf", checkpointer: new MemorySaver(), cache: new InMemoryCache() },
      async (n: number) => ({
        a: await square(n),
        b: await square(n + 1),
      }),
    );
    await expect(wf.invoke(2, thread())).resolves.toEqual({ a: 4, b: 9 });
    expect(await chunks(wf.stream(3, thread()))).toEqual([
      { square: 9, __metadata__: { cached: true } },
      { square: 16 },
      { wf: { a: 9, b: 16 } },
    ]);
    expect(ran).toEqual([2, 3, 4]);
    await wf.clearCache();
    await wf.invoke(2, thread());
    expect(ran).toEqual([2, 3, 4, 2, 3]);
  });
});
