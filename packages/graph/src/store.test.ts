// The long-term store in a graph, as LangGraph's memory guide uses it: compile({ store }), then
// nodes read and write memories shared by every thread (config.store, getStore()).
import { randomUUID } from "node:crypto";
import { AIMessage } from "@langchain/core/messages";
import { tool } from "@langchain/core/tools";
import { describe, expect, it } from "vitest";
import * as z from "zod";
import {
  type BaseStore,
  END,
  getStore,
  InMemoryStore,
  InvalidGraphError,
  InvalidInputError,
  MemorySaver,
  MessagesAnnotation,
  type NodeConfig,
  START,
  StateGraph,
  StateSchema,
} from "./index.ts";
import { ToolNode } from "./prebuilt/index.ts";

const State = new StateSchema({
  userId: z.string(),
  note: z.string().optional(),
  recalled: z.array(z.string()).default([]),
});
type S = typeof State.State;

/** Remembers the note under the user's namespace (config.store), then recalls all of theirs (getStore()). */
function memoryGraph(store?: BaseStore) {
  return new StateGraph(State)
    .addNode("remember", async (state: S, config: NodeConfig) => {
      if (state.note !== undefined)
        await config.store?.put(["memories", state.userId], randomUUID(), { text: state.note });
      return {};
    })
    .addNode("recall", async (state: S) => {
      const found = (await getStore()?.search(["memories", state.userId], { limit: 50 })) ?? [];
      return { recalled: found.map((item) => String(item.value.text)).sort() };
    })
    .addEdge(START, "remember")
    .addEdge("remember", "recall")
    .addEdge("recall", END)
    .compile({ checkpointer: new MemorySaver(), ...(store ? { store } : {}) });
}

const thread = () => ({ configurable: { thread_id: randomUUID() } });

describe("a graph's long-term store", () => {
  it("keeps what one thread's nodes remember for every other thread, per user namespace", async () => {
    const store = new InMemoryStore();
    const graph = memoryGraph(store);
    await graph.invoke({ userId: "ada", note: "likes window seats" }, thread());
    await graph.invoke({ userId: "bob", note: "vegetarian" }, thread());
    const later = await graph.invoke({ userId: "ada", note: "flies from Berlin" }, thread());
    expect(later.recalled).toEqual(["flies from Berlin", "likes window seats"]);
    expect((await store.search(["memories", "bob"])).map((item) => item.value)).toEqual([
      { text: "vegetarian" },
    ]);
  });

  it("reaches a subgraph's nodes, and the tools a ToolNode calls", async () => {
    const store = new InMemoryStore();
    await store.put(["prefs", "ada"], "seat", { seat: "window" });
    const inner = new StateGraph(State)
      .addNode("read", async (state: S, config: NodeConfig) => ({
        recalled: [String((await config.store?.get(["prefs", state.userId], "seat"))?.value.seat)],
      }))
      .addEdge(START, "read")
      .compile();
    const outer = new StateGraph(State).addNode("inner", inner).addEdge(START, "inner").compile({ store });
    expect((await outer.invoke({ userId: "ada" })).recalled).toEqual(["window"]);

    const seatTool = tool(
      async (_args, config) =>
        String((await (config as { store?: BaseStore }).store?.get(["prefs", "ada"], "seat"))?.value.seat),
      {
        name: "seat",
        description: "The user's seat",
        schema: z.object({}),
      },
    );
    const agent = new StateGraph(MessagesAnnotation)
      .addNode("agent", () => ({
        messages: [
          new AIMessage({
            content: "",
            tool_calls: [{ name: "seat", args: {}, id: "s", type: "tool_call" }],
          }),
        ],
      }))
      .addNode("tools", new ToolNode([seatTool]))
      .addEdge(START, "agent")
      .addEdge("agent", "tools")
      .compile({ store });
    expect((await agent.invoke({ messages: [] })).messages.at(-1)?.content).toBe("window");
  });

  it("reaches a subgraph compiled with a store of its own as the parent's store, as LangGraph's (a worker's withStore too)", async () => {
    const own = new InMemoryStore();
    const parents = new InMemoryStore();
    const inner = memoryGraph(own);
    const asNode = new StateGraph(State).addNode("inner", inner).addEdge(START, "inner");
    const calledInNode = new StateGraph(State)
      .addNode("call", (state: S) => inner.invoke(state))
      .addEdge(START, "call");
    for (const builder of [asNode, calledInNode]) {
      await builder.compile().withStore(parents).invoke({ userId: "ada", note: "window" });
    }
    expect((await parents.search(["memories", "ada"])).map((item) => item.value)).toEqual([
      { text: "window" },
      { text: "window" },
    ]);
    expect(await own.search(["memories", "ada"])).toEqual([]);
    // Without a parent's store, the subgraph's own.
    await asNode.compile().invoke({ userId: "ada", note: "aisle" });
    expect((await own.search(["memories", "ada"])).map((item) => item.value)).toEqual([{ text: "aisle" }]);
  });

  it("takes a call's config.store over the compiled one, as LangGraph's invoke(input, { store })", async () => {
    const compiled = new InMemoryStore();
    const given = new InMemoryStore();
    await memoryGraph(compiled).invoke({ userId: "ada", note: "given" }, { ...thread(), store: given });
    expect(await compiled.search(["memories", "ada"])).toEqual([]);
    expect(await given.search(["memories", "ada"])).toHaveLength(1);
    await expect(
      memoryGraph().invoke({ userId: "ada" }, { ...thread(), store: {} as never }),
    ).rejects.toThrow(InvalidInputError);
  });

  it("is absent without compile({ store }); withCheckpointer keeps a store and withStore gives another", async () => {
    expect((await memoryGraph().invoke({ userId: "ada", note: "x" }, thread())).recalled).toEqual([]);
    const first = new InMemoryStore();
    const second = new InMemoryStore();
    const graph = memoryGraph(first);
    expect(graph.withCheckpointer(new MemorySaver()).store).toBe(first);
    await graph.withStore(second).invoke({ userId: "ada", note: "in second" }, thread());
    expect(await first.search(["memories", "ada"])).toEqual([]);
    expect(await second.search(["memories", "ada"])).toHaveLength(1);
  });

  it("getStore(config) reads the config it is given, as LangGraph's: a tool tested on its own with { store }", async () => {
    const store = new InMemoryStore();
    await store.put(["prefs", "ada"], "seat", { seat: "aisle" });
    const seat = tool(
      async (_args, config) => String((await getStore(config)?.get(["prefs", "ada"], "seat"))?.value.seat),
      { name: "seat", description: "The user's seat", schema: z.object({}) },
    );
    expect(await seat.invoke({}, { store } as never)).toBe("aisle");
    expect(getStore({})).toBeUndefined();
  });

  it("refuses a store that is not one", () => {
    const builder = new StateGraph(State).addNode("n", () => ({})).addEdge(START, "n");
    expect(() => builder.compile({ store: {} as never })).toThrow(InvalidGraphError);
  });
});
