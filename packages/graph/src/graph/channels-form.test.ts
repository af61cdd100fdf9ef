// LangGraph.js's oldest way to declare state, `new StateGraph({ channels })` (its
// `StateGraphArgs`, deprecated there, still in many guides): each key a reducer or null.
// Expectations recorded from LangGraph.js 1.7.3 running the same graphs.
import { describe, expect, expectTypeOf, it } from "vitest";
import * as z from "zod";
import {
  END,
  InvalidGraphError,
  MemorySaver,
  START,
  type StateDefinitionLike,
  StateGraph,
  type StateGraphArgs,
} from "../index.ts";

const sum = (a: number, b: number) => a + b;

/** `nodes` in a chain from START to END over `channels`, run once with `input`: the result and the saved values. */
async function run(channels: any, input: unknown, nodes: Record<string, (state: any) => unknown>) {
  const graph = new StateGraph({ channels });
  const names = Object.keys(nodes);
  for (const name of names) graph.addNode(name, nodes[name] as never);
  graph.addEdge(START, names[0] as never);
  for (let i = 1; i < names.length; i++) graph.addEdge(names[i - 1] as never, names[i] as never);
  graph.addEdge(names.at(-1) as never, END);
  const app = graph.compile({ checkpointer: new MemorySaver() });
  const config = { configurable: { thread_id: "t" } };
  const result = await app.invoke(input as never, config);
  return { result, values: (await app.getState(config)).values };
}

describe("new StateGraph({ channels })", () => {
  it("folds keys given a reducer (or `value`), from their default; keeps the last value of the others, with no default", async () => {
    const { result, values } = await run(
      {
        count: { value: sum, default: () => 0 },
        log: { reducer: (a: string[], b: string[]) => a.concat(b), default: () => [] },
        last: null,
        noDefault: { value: sum },
        onlyDefault: { default: () => "d" }, // no reducer: LangGraph.js ignores the default
      },
      { count: 10, log: ["in"] },
      {
        a: (s) => ({ count: 1, log: [`a:${s.count}:${s.onlyDefault}`], last: "x", noDefault: 5 }),
        b: (s) => ({ count: 2, noDefault: 6, log: [`b:${s.noDefault}:${s.last}`] }),
      },
    );
    const expected = { count: 13, log: ["in", "a:10:undefined", "b:5:x"], last: "x", noDefault: 11 };
    expect(result).toEqual(expected);
    expect(values).toEqual(expected);
  });

  it("starts a reducer's key from its default when the input leaves it out", async () => {
    const { result } = await run(
      { n: { value: sum, default: () => 1 }, s: null },
      {},
      {
        a: (s) => ({ n: s.n, s: `seen ${s.s}` }),
      },
    );
    expect(result).toEqual({ n: 2, s: "seen undefined" });
    const seeded = await run(
      { xs: { reducer: (a: unknown[], b: unknown) => a.concat(b), default: () => ["seed"] } },
      { xs: "one" },
      { a: () => ({ xs: ["two"] }) },
    );
    expect(seeded.result).toEqual({ xs: ["seed", "one", "two"] });
  });

  it.each([
    ["no keys", {}, /takes an object of keys/],
    ["a state of one value", { __root__: { value: sum } }, /__root__.*not supported/],
    ["a channel object", { xs: { lc_graph_name: "Topic" } }, /channel objects .* are not provided/],
    ["a reducer that is not a function", { n: { reducer: "sum" } }, /"n" needs a reducer function/],
    [
      "a default that is not a function",
      { n: { reducer: sum, default: 0 } },
      /"n" needs a reducer function .* a default function/,
    ],
  ])("refuses %s, typed, before any node is added", (_case, channels, message) => {
    expect(() => new StateGraph({ channels } as never)).toThrow(InvalidGraphError);
    expect(() => new StateGraph({ channels } as never)).toThrow(message);
  });

  it("refuses other options beside channels (LangGraph.js ignores them)", () => {
    expect(() => new StateGraph({ channels: { n: null }, input: {} } as never)).toThrow(
      /and no other option; got input/,
    );
  });

  it("types the state from the reducers, or from an explicit state type", () => {
    const inferred = new StateGraph({
      channels: {
        count: { value: sum, default: () => 0 },
        log: { reducer: (a: string[], b: string | string[]) => a.concat(b) },
      },
    });
    inferred.addNode("a", (s) => {
      const count: number = s.count;
      // @ts-expect-error log is string[]
      const wrong: number = s.log;
      return { count: count + wrong, log: "one" };
    });
    interface Counted {
      count: number;
      log: string[];
    }
    const declared = new StateGraph<Counted>({ channels: { count: { value: sum }, log: null } });
    declared.addNode("b", (s) => ({ count: s.count + 1 }));
    const wrong = () =>
      new StateGraph<Counted>({
        // @ts-expect-error "other" is not a key of the state type (at run time it is one more key)
        channels: { count: null, log: null, other: null },
      });
    expect(wrong()).toBeInstanceOf(StateGraph);
  });
});

describe("new StateGraph({ channels }): types", () => {
  it("StateGraphArgs<State>['channels'] types the channels, as LangGraph.js's old guides write them", async () => {
    interface AgentState {
      count: number;
      log: string[];
    }
    const channels: StateGraphArgs<AgentState>["channels"] = {
      count: { value: (a: number, b: number) => a + b, default: () => 0 },
      log: null,
    };
    const graph = new StateGraph<AgentState>({ channels })
      .addNode("a", (s: AgentState) => ({ count: 2, log: [`a:${s.count}`] }))
      .addEdge("__start__", "a")
      .addEdge("a", "__end__")
      .compile();
    // Recorded from LangGraph.js 1.7.3.
    expect(await graph.invoke({ count: 1 })).toEqual({ count: 3, log: ["a:1"] });
  });

  it("an explicit state type with a key named `channels` is the state (LangGraph.js: the same)", async () => {
    interface Slack {
      channels: string[];
      log: string[];
    }
    const graph = new StateGraph<Slack>({
      channels: {
        channels: null,
        log: { reducer: (a: string[], b: string[]) => a.concat(b), default: () => [] },
      },
    });
    graph.addNode("a", (s) => {
      expectTypeOf(s).toEqualTypeOf<Slack>();
      return { log: [`a:${s.channels}`], channels: ["#general"] };
    });
    const app = graph.addEdge("__start__", "a").addEdge("a", "__end__").compile();
    // Runtime is right (recorded from LangGraph.js 1.7.3): only the types are off.
    expect(await app.invoke({ channels: ["#dev"] })).toEqual({ log: ["a:#dev"], channels: ["#general"] });
  });

  it("an explicit state type with an `input` / `output` key typed any is the state (LangGraph.js: the same)", async () => {
    interface Loose {
      input: any;
      output?: any;
      count: number;
    }
    const graph = new StateGraph<Loose>({ channels: { input: null, output: null, count: null } });
    graph.addNode("a", (s) => {
      expectTypeOf(s).toEqualTypeOf<Loose>();
      return { output: `${s.input}!`, count: s.count + 1 };
    });
    const app = graph.addEdge("__start__", "a").addEdge("a", "__end__").compile();
    expect(await app.invoke({ input: "hi", count: 1 })).toEqual({ input: "hi", output: "hi!", count: 2 });
  });

  it("a graph over a generic schema still type-checks (LangGraph.js refuses its own analogue)", () => {
    function graphOf<T extends StateDefinitionLike>(schema: T) {
      return new StateGraph(schema);
    }
    function zodGraphOf<T extends z.ZodObject<z.ZodRawShape>>(schema: T) {
      return new StateGraph(schema);
    }
    expect(zodGraphOf(z.object({ a: z.string() }))).toBeInstanceOf(StateGraph);
    expect(typeof graphOf).toBe("function");
  });
});
