// LangGraph's time-travel guide (docs.langchain.com/oss/javascript/langgraph/use-time-travel),
// breakpoints and streaming modes, with only the import changed from "@langchain/langgraph" to
// "@layover/graph". The guide's model is a stand-in that answers as its output shows.

import { randomUUID } from "node:crypto";
import { describe, expect, it } from "vitest";
import * as z from "zod";
import {
  END,
  type GraphNode,
  getWriter,
  type LangGraphRunnableConfig,
  MemorySaver,
  START,
  StateGraph,
  StateSchema,
  type StateSnapshot,
} from "../index.ts";

const model = {
  async invoke(prompt: string): Promise<{ content: string }> {
    return {
      content: prompt.startsWith("Give me") ? "socks in the dryer" : `A joke about ${prompt.slice(25)}`,
    };
  },
};

describe("use-time-travel: in a workflow", () => {
  const State = new StateSchema({
    topic: z.string().optional(),
    joke: z.string().optional(),
  });
  const generateTopic: GraphNode<typeof State> = async (_state) => {
    const msg = await model.invoke("Give me a funny topic for a joke");
    return { topic: msg.content };
  };
  const writeJoke: GraphNode<typeof State> = async (state) => {
    const msg = await model.invoke(`Write a short joke about ${state.topic}`);
    return { joke: msg.content };
  };
  const workflow = new StateGraph(State)
    .addNode("generateTopic", generateTopic)
    .addNode("writeJoke", writeJoke)
    .addEdge(START, "generateTopic")
    .addEdge("generateTopic", "writeJoke")
    .addEdge("writeJoke", END);
  const checkpointer = new MemorySaver();
  const graph = workflow.compile({ checkpointer });

  it("runs, lists its checkpoints, forks from the one before writeJoke with a new topic", async () => {
    const config = {
      configurable: {
        thread_id: randomUUID(),
      },
    };
    const state = await graph.invoke({}, config);
    expect(state).toEqual({ topic: "socks in the dryer", joke: "A joke about socks in the dryer" });

    const states: StateSnapshot[] = [];
    for await (const state of graph.getStateHistory(config)) {
      states.push(state);
    }
    // LangGraph.js also lists a step-0 checkpoint (next: ["generateTopic"]) before the input's;
    // Layover's input checkpoint is that one (README: "History has no separate step-0 checkpoint").
    expect(states.map((state) => state.next)).toEqual([[], ["writeJoke"], ["generateTopic"]]);
    for (const state of states) expect(state.config.configurable?.checkpoint_id).toEqual(expect.any(String));

    const selectedState = states[1] as StateSnapshot;
    expect(selectedState.next).toEqual(["writeJoke"]);
    expect(selectedState.values).toEqual({ topic: "socks in the dryer" });

    const newConfig = await graph.updateState(selectedState.config, {
      topic: "chickens",
    });
    expect(newConfig).toEqual({
      configurable: {
        thread_id: config.configurable.thread_id,
        checkpoint_ns: "",
        checkpoint_id: expect.any(String),
      },
    });
    expect(await graph.invoke(null, newConfig)).toEqual({ topic: "chickens", joke: "A joke about chickens" });
  });

  it("replays from a checkpoint: invoke(null, { configurable: { thread_id, checkpoint_id } })", async () => {
    const config = { configurable: { thread_id: randomUUID() } };
    await graph.invoke({}, config);
    const states: StateSnapshot[] = [];
    for await (const state of graph.getStateHistory(config)) states.push(state);
    const beforeJoke = states.find((state) => state.next.includes("writeJoke")) as StateSnapshot;
    const replayed = await graph.invoke(null, {
      configurable: {
        thread_id: config.configurable.thread_id,
        checkpoint_id: beforeJoke.config.configurable?.checkpoint_id,
      },
    });
    expect(replayed).toEqual({ topic: "socks in the dryer", joke: "A joke about socks in the dryer" });
  });
});

describe("breakpoints: interruptBefore / interruptAfter, at compile time and per call", () => {
  const State = new StateSchema({ input: z.string() });
  const step =
    (n: string): GraphNode<typeof State> =>
    (state) => ({ input: `${state.input}${n}` });
  const builder = new StateGraph(State)
    .addNode("step1", step("1"))
    .addNode("step2", step("2"))
    .addNode("step3", step("3"))
    .addEdge(START, "step1")
    .addEdge("step1", "step2")
    .addEdge("step2", "step3")
    .addEdge("step3", END);

  it("stops after step1 and before step3; invoke(null) goes on from each", async () => {
    const graph = builder.compile({
      checkpointer: new MemorySaver(),
      interruptBefore: ["step3"],
      interruptAfter: ["step1"],
    });
    const config = { configurable: { thread_id: randomUUID() } };
    const values: unknown[] = [];
    for await (const event of await graph.stream({ input: "hello" }, { ...config, streamMode: "values" })) {
      values.push(event);
    }
    // As in LangGraph.js 1.7.3, a static breakpoint ends the stream with an empty __interrupt__.
    expect(values).toEqual([{ input: "hello" }, { input: "hello1" }, { __interrupt__: [] }]);
    expect((await graph.getState(config)).next).toEqual(["step2"]);
    expect(await graph.invoke(null, config)).toEqual({ input: "hello12", __interrupt__: [] });
    expect((await graph.getState(config)).next).toEqual(["step3"]);
    expect(await graph.invoke(null, config)).toEqual({ input: "hello123" });
    expect((await graph.getState(config)).next).toEqual([]);
  });

  it("a call's own interruptBefore stops that call only", async () => {
    const graph = builder.compile({ checkpointer: new MemorySaver() });
    const config = { configurable: { thread_id: randomUUID() } };
    expect(await graph.invoke({ input: "x" }, { ...config, interruptBefore: ["step2"] })).toEqual({
      input: "x1",
      __interrupt__: [],
    });
    expect((await graph.getState(config)).next).toEqual(["step2"]);
    expect(await graph.invoke(null, config)).toEqual({ input: "x123" });
  });

  it("updateState as a node: the edit stands for humanFeedback, and the run goes on after it", async () => {
    const FeedbackState = new StateSchema({ input: z.string(), userFeedback: z.string().optional() });
    const graph = new StateGraph(FeedbackState)
      .addNode("step1", () => ({}))
      .addNode("humanFeedback", () => ({}))
      .addNode("step3", () => ({}))
      .addEdge(START, "step1")
      .addEdge("step1", "humanFeedback")
      .addEdge("humanFeedback", "step3")
      .addEdge("step3", END)
      .compile({ checkpointer: new MemorySaver(), interruptBefore: ["humanFeedback"] });
    const thread = { configurable: { thread_id: randomUUID() } };
    await graph.invoke({ input: "hello world" }, thread);
    expect((await graph.getState(thread)).next).toEqual(["humanFeedback"]);
    await graph.updateState(thread, { userFeedback: "go to step 3!" }, "humanFeedback");
    const state = await graph.getState(thread);
    expect(state.next).toEqual(["step3"]);
    expect(state.metadata?.source).toBe("update");
    expect(await graph.invoke(null, thread)).toEqual({ input: "hello world", userFeedback: "go to step 3!" });
  });
});

describe("streaming: values, updates, custom (config.writer and getWriter()), several modes", () => {
  const State = new StateSchema({ topic: z.string(), joke: z.string().default("") });
  const refineTopic: GraphNode<typeof State> = (state) => ({ topic: `${state.topic} and cats` });
  const generateJoke = (state: typeof State.State, config: LangGraphRunnableConfig) => {
    config.writer?.({ custom_key: "Writing a joke" });
    getWriter()?.({ custom_key: "from getWriter" });
    return { joke: `This is a joke about ${state.topic}` };
  };
  const graph = new StateGraph(State)
    .addNode("refineTopic", refineTopic)
    .addNode("generateJoke", generateJoke)
    .addEdge(START, "refineTopic")
    .addEdge("refineTopic", "generateJoke")
    .addEdge("generateJoke", END)
    .compile();

  it("each mode gives what LangGraph.js gives", async () => {
    const values: unknown[] = [];
    for await (const chunk of await graph.stream({ topic: "ice cream" }, { streamMode: "values" }))
      values.push(chunk);
    expect(values).toEqual([
      { topic: "ice cream", joke: "" },
      { topic: "ice cream and cats", joke: "" },
      { topic: "ice cream and cats", joke: "This is a joke about ice cream and cats" },
    ]);
    const custom: unknown[] = [];
    for await (const chunk of await graph.stream({ topic: "ice cream" }, { streamMode: "custom" }))
      custom.push(chunk);
    expect(custom).toEqual([{ custom_key: "Writing a joke" }, { custom_key: "from getWriter" }]);
    const both: unknown[] = [];
    for await (const [mode, chunk] of await graph.stream(
      { topic: "ice cream" },
      { streamMode: ["updates", "custom"] },
    )) {
      both.push([mode, chunk]);
    }
    expect(both).toEqual([
      ["updates", { refineTopic: { topic: "ice cream and cats" } }],
      ["custom", { custom_key: "Writing a joke" }],
      ["custom", { custom_key: "from getWriter" }],
      ["updates", { generateJoke: { joke: "This is a joke about ice cream and cats" } }],
    ]);
  });
});
