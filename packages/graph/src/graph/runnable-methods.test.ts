// withConfig and batch, as a LangGraph.js compiled graph has them (LangChain's Runnable): a port
// calling graph.withConfig({ … }).invoke(…) failed with "withConfig is not a function". The
// merged tags, thread and batch results are LangGraph.js 1.7.3's on the same program (compared
// in a script).
import { describe, expect, it } from "vitest";
import { Annotation, MemorySaver, START, StateGraph } from "../index.ts";

const State = Annotation.Root({
  n: Annotation<number>({ reducer: (a, b) => a + b, default: () => 0 }),
  tags: Annotation<readonly string[]>(),
});

const graph = () =>
  new StateGraph(State)
    .addNode("a", (s, config) => {
      if (s.n < 0) throw new Error("negative");
      return { n: 1, tags: config.tags };
    })
    .addEdge(START, "a")
    .compile({ checkpointer: new MemorySaver() });

describe("withConfig", () => {
  it("puts its config under every call's: configurable and metadata key by key, tags together", async () => {
    const g = graph();
    const bound = g.withConfig({ configurable: { thread_id: "w" }, tags: ["x"] });
    expect(await bound.invoke({ n: 1 }, { tags: ["y"] })).toEqual({ n: 2, tags: ["x", "y"] });
    expect((await g.getState({ configurable: { thread_id: "w" } })).values).toEqual({
      n: 2,
      tags: ["x", "y"],
    });
    const chunks: unknown[] = [];
    for await (const chunk of await bound.stream({ n: 1 }, { streamMode: "values" })) chunks.push(chunk);
    expect(chunks.at(-1)).toEqual({ n: 4, tags: ["x"] });
    await expect(
      g.withConfig({ recursionLimit: 0 }).invoke({ n: 1 }, { configurable: { thread_id: "r" } }),
    ).rejects.toMatchObject({
      code: "RECURSION_LIMIT",
    });
  });
});

describe("withConfig beyond invoke", () => {
  it("reads the bound thread (getState, getStateHistory), and steps under the bound config (prepare, step)", async () => {
    const Seen = Annotation.Root({ n: Annotation<number>(), seen: Annotation<unknown>() });
    const g = new StateGraph(Seen)
      .addNode("a", (_s, config) => ({ n: 1, seen: config.context ?? null }))
      .addEdge(START, "a")
      .compile({ checkpointer: new MemorySaver() });
    const bound = g.withConfig({ configurable: { thread_id: "bound-thread" }, context: { tenant: "acme" } });
    await bound.invoke({ n: 0 });
    expect((await bound.getState({ configurable: {} })).values).toEqual({ n: 1, seen: { tenant: "acme" } });
    const history: unknown[] = [];
    for await (const snapshot of bound.getStateHistory({ configurable: {} })) history.push(snapshot.values);
    expect(history[0]).toEqual({ n: 1, seen: { tenant: "acme" } });
    // The worker's way: prepare the input, then step; the nodes see the bound context.
    const stepped = g.withConfig({ context: { tenant: "globex" } });
    const config = { configurable: { thread_id: "stepped" } };
    await stepped.prepare({ n: 0 }, config);
    await stepped.step(config);
    expect((await g.getState(config)).values).toEqual({ n: 1, seen: { tenant: "globex" } });
  });
});

describe("batch", () => {
  it("invokes each input with its config, results in order; returnExceptions puts an error in its place", async () => {
    const g = graph();
    const results = await g.batch(
      [{ n: 1 }, { n: -5 }],
      [{ configurable: { thread_id: "b1" } }, { configurable: { thread_id: "b2" } }],
      { returnExceptions: true },
    );
    expect(results[0]).toEqual({ n: 2, tags: [] });
    expect(results[1]).toBeInstanceOf(Error);
    expect((results[1] as Error).message).toBe("negative");
    await expect(g.batch([{ n: -1 }], { configurable: { thread_id: "b3" } })).rejects.toThrow("negative");
  });

  it("runs at most maxConcurrency inputs at once", async () => {
    let running = 0;
    let most = 0;
    const slow = new StateGraph(State)
      .addNode("a", async () => {
        running += 1;
        most = Math.max(most, running);
        await new Promise((resolve) => setTimeout(resolve, 10));
        running -= 1;
        return { n: 1 };
      })
      .addEdge(START, "a")
      .compile();
    const results = await slow.batch([{ n: 0 }, { n: 1 }, { n: 2 }, { n: 3 }], undefined, {
      maxConcurrency: 2,
    });
    expect(results.map((r) => (r as { n: number }).n)).toEqual([1, 2, 3, 4]);
    expect(most).toBe(2);
  });
});
