// StateGraph.setNodeDefaults, as LangGraph.js 1.7.3's: graph-wide retry, cache and timeout
// policies for the nodes that set none of their own, resolved at compile (called before or after
// addNode), merged field by field over several calls; `cachePolicy: false` on a node opts out.
import { setTimeout as sleep } from "node:timers/promises";
import { describe, expect, it } from "vitest";
import { Annotation, InMemoryCache, START, StateGraph } from "./index.ts";

const State = Annotation.Root({ n: Annotation<number> });

describe("setNodeDefaults", () => {
  it("retries every node by the default policy, unless the node has its own; before or after addNode", async () => {
    let calls = { flaky: 0, strict: 0 };
    const failOnce = (name: "flaky" | "strict") => () => {
      calls[name] += 1;
      if (calls[name] === 1) throw new Error(`${name} failed once`);
      return { n: calls[name] };
    };
    const build = (when: "before" | "after", strict: boolean) => {
      calls = { flaky: 0, strict: 0 };
      const graph = new StateGraph(State);
      if (when === "before") graph.setNodeDefaults({ retryPolicy: { maxAttempts: 2, initialInterval: 1 } });
      graph
        .addNode("flaky", failOnce("flaky"))
        .addNode("strict", failOnce("strict"), strict ? { retryPolicy: { maxAttempts: 1 } } : {})
        .addEdge(START, "flaky")
        .addEdge("flaky", "strict");
      if (when === "after") graph.setNodeDefaults({ retryPolicy: { maxAttempts: 2, initialInterval: 1 } });
      return graph.compile();
    };
    for (const when of ["before", "after"] as const) {
      expect(await build(when, false).invoke({ n: 0 })).toEqual({ n: 2 });
      await expect(build(when, true).invoke({ n: 0 })).rejects.toThrow("strict failed once");
    }
  });

  it("times out every node by the default timeout, a node's own taking precedence", async () => {
    const graph = new StateGraph(State)
      .setNodeDefaults({ timeout: 50 })
      .addNode("slow", async () => {
        await sleep(300);
        return { n: 1 };
      })
      .addEdge(START, "slow");
    await expect(graph.compile().invoke({ n: 0 })).rejects.toMatchObject({
      name: "NodeTimeoutError",
      node: "slow",
    });
    const patient = new StateGraph(State)
      .setNodeDefaults({ timeout: 50 })
      .addNode(
        "slow",
        async () => {
          await sleep(100);
          return { n: 1 };
        },
        { timeout: 2_000 },
      )
      .addEdge(START, "slow");
    expect(await patient.compile().invoke({ n: 0 })).toEqual({ n: 1 });
  });

  it("caches every node by the default cache policy but one that says cachePolicy: false; merges calls field by field", async () => {
    const ran = { cached: 0, fresh: 0 };
    const graph = new StateGraph(State)
      .setNodeDefaults({ cachePolicy: { ttl: 60 } })
      .setNodeDefaults({ retryPolicy: { maxAttempts: 1 } }) // keeps the cache policy
      .addNode("cached", (s) => {
        ran.cached += 1;
        return { n: s.n + 1 };
      })
      .addNode(
        "fresh",
        (s) => {
          ran.fresh += 1;
          return { n: s.n };
        },
        { cachePolicy: false },
      )
      .addEdge(START, "cached")
      .addEdge("cached", "fresh")
      .compile({ cache: new InMemoryCache() });
    await graph.invoke({ n: 1 });
    await graph.invoke({ n: 1 });
    expect(ran).toEqual({ cached: 1, fresh: 2 });
  });

  it("refuses an errorHandler that is not a function and options it does not know, naming them", () => {
    const graph = new StateGraph(State);
    expect(() => graph.setNodeDefaults({ errorHandler: "log it" } as never)).toThrow(
      /errorHandler must be a function/,
    );
    expect(() => graph.setNodeDefaults({ retries: 3 } as never)).toThrow(/"retries"/);
    expect(() => graph.setNodeDefaults({ timeout: -1 })).toThrow(/timeout/);
  });
});
