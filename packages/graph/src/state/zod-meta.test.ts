// LangGraph.js's zod state with reducers, from "@langchain/langgraph/zod": a field registered in
// `registry` (or given to withLangGraph) with a reducer folds what nodes write; its meta's default
// is the key's value in a new thread; MessagesZodState merges messages by id.
import { describe, expect, it } from "vitest";
import { z } from "zod";
import {
  END,
  MemorySaver,
  type Message,
  MessagesZodMeta,
  MessagesZodState,
  START,
  StateGraph,
  StateSchema,
} from "../index.ts";
import { registry, withLangGraph } from "../zod.ts";

const concat = (a: string[], b: string[]) => a.concat(b);

function twoWriters<S extends z.ZodObject<z.ZodRawShape>>(state: S, write: (n: string) => object) {
  return new StateGraph(state)
    .addNode("a", () => write("a") as never)
    .addNode("b", () => write("b") as never)
    .addEdge(START, "a")
    .addEdge(START, "b")
    .addEdge("a", END)
    .addEdge("b", END)
    .compile();
}

describe("zod state with reducers: registry and withLangGraph, as @langchain/langgraph/zod", () => {
  it("folds the writes of a registered field with its reducer, from its meta's default", async () => {
    const State = z.object({
      items: z.array(z.string()).register(registry, { reducer: { fn: concat }, default: () => ["start"] }),
      last: z.string().optional(),
    });
    expect(await twoWriters(State, (n) => ({ items: [n] })).invoke({})).toEqual({
      items: ["start", "a", "b"],
    });
    // A field not registered keeps one value: two writes in a superstep are refused.
    await expect(twoWriters(State, (n) => ({ last: n })).invoke({})).rejects.toMatchObject({
      code: "INVALID_UPDATE",
      message: expect.stringContaining(".register(registry, { reducer })"),
    });
  });

  it("takes withLangGraph(schema, meta) as register does, and a zod default where the meta has none", async () => {
    const State = z.object({
      total: withLangGraph(z.number().default(10), { reducer: { fn: (a: number, b: number) => a + b } }),
    });
    const graph = twoWriters(State, () => ({ total: 1 }));
    expect(await graph.invoke({})).toEqual({ total: 12 });
    expect(await graph.invoke({ total: 5 })).toEqual({ total: 17 }); // the input is folded in too
  });

  it("keeps the reducer's fold across runs of a thread, through a checkpointer", async () => {
    const State = z.object({
      items: z.array(z.string()).register(registry, { reducer: { fn: concat }, default: () => [] }),
    });
    const graph = new StateGraph(State)
      .addNode("w", () => ({ items: ["w"] }))
      .addEdge(START, "w")
      .compile({ checkpointer: new MemorySaver() });
    const config = { configurable: { thread_id: "t" } };
    await graph.invoke({ items: ["one"] }, config);
    expect(await graph.invoke({ items: ["two"] }, config)).toEqual({ items: ["one", "w", "two", "w"] });
  });

  it("checks an update against the reducer's schema, and refuses one that fails it with nothing written", async () => {
    const State = z.object({
      items: z.array(z.string()).register(registry, {
        reducer: {
          fn: (a: string[], b: string | string[]) => a.concat(b),
          schema: z.union([z.string(), z.array(z.string())]),
        },
        default: () => [],
      }),
    });
    const graph = new StateGraph(State)
      .addNode("w", () => ({ items: "one" }) as never)
      .addEdge(START, "w")
      .compile({ checkpointer: new MemorySaver() });
    const config = { configurable: { thread_id: "t" } };
    expect(await graph.invoke({ items: "zero" } as never, config)).toEqual({ items: ["zero", "one"] });
    await expect(graph.invoke({ items: 7 } as never, config)).rejects.toMatchObject({
      code: "INVALID_INPUT",
    });
    expect((await graph.getState(config)).values).toEqual({ items: ["zero", "one"] });
    // What a producer checks a run's input against, with no graph code: the reducer's schema.
    expect(graph.inputJsonSchema()).toMatchObject({
      properties: { items: { anyOf: [{ type: "string" }, { type: "array" }] } },
    });
  });

  it("gives a registered field without a reducer its meta's default, and the last value written", async () => {
    const State = z.object({ mode: z.string().register(registry, { default: () => "draft" }) });
    const graph = new StateGraph(State)
      .addNode("read", (state) => ({ mode: `${state.mode}!` }))
      .addEdge(START, "read")
      .compile();
    expect(await graph.invoke({})).toEqual({ mode: "draft!" });
  });

  it("knows a field by its own registration only, not one of the schema it was made from, as LangGraph", async () => {
    const base = z.array(z.string()).register(registry, { reducer: { fn: concat }, default: () => ["base"] });
    // .describe() makes a new schema: registered anew without a reducer, it keeps its last value.
    const tags = withLangGraph(base.describe("tags"), { default: () => ["own"] });
    const graph = new StateGraph(z.object({ tags, plain: base.max(3) }))
      .addNode("a", () => ({ tags: ["a"], plain: ["p"] }))
      .addEdge(START, "a")
      .compile();
    expect(await graph.invoke({})).toEqual({ tags: ["a"], plain: ["p"] });
  });

  it("reads registered fields in a StateSchema too", async () => {
    const State = new StateSchema({
      items: z.array(z.string()).register(registry, { reducer: { fn: concat }, default: () => [] }),
    });
    const graph = new StateGraph(State)
      .addNode("w", () => ({ items: ["w"] }))
      .addEdge(START, "w")
      .compile();
    expect(await graph.invoke({ items: ["in"] })).toEqual({ items: ["in", "w"] });
  });
});

describe("MessagesZodState and MessagesZodMeta", () => {
  it("merges messages by id, as MessagesAnnotation does: a message with a known id replaces it", async () => {
    const graph = new StateGraph(MessagesZodState)
      .addNode("model", () => ({ messages: [{ role: "assistant", content: "draft", id: "m2" }] }))
      .addNode("edit", () => ({ messages: [{ role: "assistant", content: "final", id: "m2" }] }))
      .addEdge(START, "model")
      .addEdge("model", "edit")
      .compile();
    const result = await graph.invoke({ messages: [{ role: "user", content: "hi", id: "m1" }] });
    expect(result.messages.map((m: { content: unknown }) => m.content)).toEqual(["hi", "final"]);
  });

  it("merges a field registered with MessagesZodMeta, as LangGraph's reference shows it", async () => {
    const State = z.object({ messages: z.custom<Message[]>().register(registry, MessagesZodMeta) });
    const graph = new StateGraph(State)
      .addNode("model", (state) => ({
        messages: [{ role: "assistant", content: `read ${state.messages.length}` }],
      }))
      .addEdge(START, "model")
      .compile();
    const result = await graph.invoke({ messages: [{ role: "user", content: "hi" }] as never });
    expect(result.messages.map((m: { content: unknown }) => m.content)).toEqual(["hi", "read 1"]);
  });

  it("extends into a state of one's own: MessagesZodState.extend({ ... })", async () => {
    const State = MessagesZodState.extend({
      summary: z.string().register(registry, { default: () => "" }),
      log: z.array(z.string()).register(registry, { reducer: { fn: concat }, default: () => [] }),
    });
    const graph = new StateGraph(State)
      .addNode("model", () => ({ messages: [{ role: "assistant", content: "ok" }], log: ["model"] }))
      .addEdge(START, "model")
      .compile();
    const result = await graph.invoke({ messages: [{ role: "user", content: "hi" }] });
    expect(result.messages).toHaveLength(2);
    expect(result.summary).toBe("");
    expect(result.log).toEqual(["model"]);
  });
});
