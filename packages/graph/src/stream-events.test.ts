// Seed 000 (the interrupt-pattern skill) as a LangGraph.js user writes it: a node asks with a
// structured payload, the caller reads the question from getState().tasks[].interrupts, and
// resumes through streamEvents(Command({ resume }), { …config, version: "v2" }).
import { FakeListChatModel } from "@langchain/core/utils/testing";
import { describe, expect, it } from "vitest";
import { z } from "zod";
import {
  Command,
  END,
  InvalidInputError,
  interrupt,
  MemorySaver,
  MessagesAnnotation,
  START,
  StateGraph,
  StateSchema,
  type StreamEvent,
} from "./index.ts";

const State = new StateSchema({
  selected: z.string().optional(),
  done: z.boolean().default(false),
});

function seedGraph() {
  const myNode = (state: typeof State.State) => {
    // Do work, then pause for input
    const userInput = interrupt({
      reason: "need_selection",
      options: ["option_a", "option_b"],
      context: "Choose which path to take",
    }) as { action: "select"; selected: string } | { action: "skip" };
    // Execution resumes here after user responds
    switch (userInput.action) {
      case "select":
        return { selected: userInput.selected };
      case "skip":
        return state;
    }
  };
  return new StateGraph(State)
    .addNode("myNode", myNode)
    .addNode("finish", () => ({ done: true }))
    .addEdge(START, "myNode")
    .addEdge("myNode", "finish")
    .addEdge("finish", END)
    .compile({ checkpointer: new MemorySaver() });
}

async function collect(events: AsyncIterable<StreamEvent>): Promise<StreamEvent[]> {
  const seen: StreamEvent[] = [];
  for await (const event of events) seen.push(event);
  return seen;
}
const named = (events: StreamEvent[]) => events.map((e) => `${e.event} ${e.name}`);

describe("seed 000: resume through streamEvents v2", () => {
  it("the question is read from getState's tasks; streamEvents resumes the run to its end", async () => {
    const graph = seedGraph();
    const threadId = "seed-000";
    const config = { configurable: { thread_id: threadId } };
    const first = await collect(graph.streamEvents({}, { ...config, version: "v2" }));
    expect(first.find((e) => e.event === "on_chain_stream")?.data.chunk).toEqual({
      __interrupt__: [
        { id: expect.any(String), value: expect.objectContaining({ reason: "need_selection" }) },
      ],
    });
    // As LangGraph's: the node that paused starts and has no end; the graph ends with its state.
    expect(named(first)).toEqual([
      "on_chain_start LangGraph",
      "on_chain_start myNode",
      "on_chain_stream LangGraph",
      "on_chain_end LangGraph",
    ]);
    expect(first.at(-1)?.data.output).toEqual({ done: false });

    const stateSnapshot = await graph.getState(config);
    const asked: Array<{ reason?: string; options?: string[] }> = [];
    for (const task of stateSnapshot.tasks) {
      for (const intr of task.interrupts) {
        const payload = intr.value as { reason: string; options: string[] }; // The value passed to interrupt()
        asked.push({ reason: payload.reason, options: payload.options });
      }
    }
    expect(asked).toEqual([{ reason: "need_selection", options: ["option_a", "option_b"] }]);

    const chosenItem = "option_b";
    const events: StreamEvent[] = [];
    for await (const event of graph.streamEvents(
      new Command({ resume: { action: "select", selected: chosenItem } }),
      { configurable: { thread_id: threadId }, version: "v2" },
    )) {
      events.push(event);
    }
    expect(events[0]).toMatchObject({ event: "on_chain_start", name: "LangGraph", parent_ids: [] });
    expect(events.at(-1)).toMatchObject({
      event: "on_chain_end",
      name: "LangGraph",
      data: { output: { selected: "option_b", done: true } },
      metadata: { thread_id: threadId },
    });
    const ends = events.filter((e) => e.event === "on_chain_end" && e.name !== "LangGraph");
    expect(ends.map((e) => [e.name, e.tags, e.data.output])).toEqual([
      ["myNode", ["graph:step:0"], { selected: "option_b" }],
      ["finish", ["graph:step:1"], { done: true }],
    ]);
    expect(ends[0]).toMatchObject({
      data: { input: { done: false } },
      metadata: { langgraph_node: "myNode", langgraph_step: 0, thread_id: threadId },
      parent_ids: [events[0]?.run_id],
    });
    const chunks = events.filter((e) => e.event === "on_chain_stream").map((e) => e.data.chunk);
    expect(chunks).toEqual([{ myNode: { selected: "option_b" } }, { finish: { done: true } }]);
    expect((await graph.getState(config)).next).toEqual([]);
  });

  it('streams the graph\'s chunks in the streamMode asked for ("values")', async () => {
    const graph = seedGraph();
    const config = { configurable: { thread_id: "seed-000-values" } };
    await graph.invoke({}, config);
    const events = await collect(
      graph.streamEvents(new Command({ resume: { action: "skip" } }), {
        ...config,
        version: "v2",
        streamMode: "values",
      }),
    );
    expect(events.filter((e) => e.event === "on_chain_stream").map((e) => e.data.chunk)).toEqual([
      { done: false },
      { done: false },
      { done: true },
    ]);
  });

  it("refuses a call without version v2, or with filters LangChain does not have, saying what to do", async () => {
    const graph = seedGraph();
    const config = { configurable: { thread_id: "seed-000-refused" } };
    const bad = [
      () => graph.streamEvents({}, config as never),
      () => graph.streamEvents({}, { ...config, version: "v1" }),
      () => graph.streamEvents({}, { ...config, version: "v2" }, { includeNodes: ["myNode"] } as never),
      () => graph.streamEvents({}, { ...config, version: "v2" }, { includeNames: "myNode" } as never),
    ];
    for (const call of bad) expect(call).toThrow(InvalidInputError);
    expect((await graph.getState(config)).values).toEqual({});
  });
});

describe("streamEvents: LangChain's filters", () => {
  it("yields the events of the runs they let through: names, types and tags, included then excluded", async () => {
    const graph = new StateGraph(State)
      .addNode("pick", () => ({ selected: "a" }))
      .addNode("finish", () => ({ done: true }))
      .addEdge(START, "pick")
      .addEdge("pick", "finish")
      .compile();
    const run = async (filters: object) =>
      named(await collect(graph.streamEvents({}, { version: "v2", tags: ["ops"] }, filters)));
    expect(await run({ includeNames: ["finish"] })).toEqual(["on_chain_start finish", "on_chain_end finish"]);
    expect(await run({ includeTypes: ["chat_model"] })).toEqual([]);
    expect(await run({ includeTypes: ["chain"], excludeNames: ["LangGraph", "pick"] })).toEqual([
      "on_chain_start finish",
      "on_chain_end finish",
    ]);
    // Every run carries the caller's tags; a node's also its step's.
    expect((await run({ includeTags: ["ops"] })).length).toBe((await run({})).length);
    expect(await run({ excludeTags: ["graph:step:0", "graph:step:1"] })).toEqual([
      "on_chain_start LangGraph",
      "on_chain_stream LangGraph",
      "on_chain_stream LangGraph",
      "on_chain_end LangGraph",
    ]);
  });
});

describe("streamEvents: a chat model's run type", () => {
  it('includeTypes: ["chat_model"] yields the model\'s events alone', async () => {
    const model = new FakeListChatModel({ responses: ["hi"] });
    const graph = new StateGraph(MessagesAnnotation)
      .addNode("ask", async (state) => ({ messages: [await model.invoke(state.messages)] }))
      .addEdge(START, "ask")
      .compile();
    const events = await collect(
      graph.streamEvents(
        { messages: [{ role: "user", content: "hello" }] },
        { version: "v2" },
        {
          includeTypes: ["chat_model"],
        },
      ),
    );
    expect(new Set(events.map((e) => e.event))).toEqual(
      new Set(["on_chat_model_start", "on_chat_model_stream", "on_chat_model_end"]),
    );
    // As @langchain/core's: the first event yielded carries the call's input, its run's end none.
    expect(events[0]?.data.input).toEqual({ messages: [{ role: "user", content: "hello" }] });
    expect(events.at(-1)?.event).toBe("on_chat_model_end");
    expect(events.at(-1)?.data).not.toHaveProperty("input");
  });
});

describe("streamEvents: the caller's config", () => {
  it("gives the caller's tags to the nodes' events too, after their step tag (as LangGraph's)", async () => {
    const graph = new StateGraph(State)
      .addNode("finish", () => ({ done: true }))
      .addEdge(START, "finish")
      .compile();
    const events = await collect(graph.streamEvents({}, { version: "v2", tags: ["ui"] }));
    expect(events.map((e) => [`${e.event} ${e.name}`, e.tags])).toEqual([
      ["on_chain_start LangGraph", ["ui"]],
      ["on_chain_start finish", ["graph:step:0", "ui"]],
      ["on_chain_stream LangGraph", ["ui"]],
      ["on_chain_end finish", ["graph:step:0", "ui"]],
      ["on_chain_end LangGraph", ["ui"]],
    ]);
  });
});
