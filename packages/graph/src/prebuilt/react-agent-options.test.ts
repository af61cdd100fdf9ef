// createReactAgent's other options as ported agents use them: structured responses, model hooks,
// custom state, the ways to give the model and the tools, and what Layover refuses. Expectations
// recorded from LangGraph.js 1.7.3 + @langchain/core 1.4.0 running the same agents.
import { randomUUID } from "node:crypto";
import { RemoveMessage, SystemMessage } from "@langchain/core/messages";
import { RunnableLambda } from "@langchain/core/runnables";
import { tool } from "@langchain/core/tools";
import { describe, expect, it } from "vitest";
import * as z from "zod";
import {
  Annotation,
  InMemoryStore,
  InvalidGraphError,
  MemorySaver,
  MessagesAnnotation,
  MessagesValue,
  StateSchema,
} from "../index.ts";
import {
  add,
  addCall,
  asks,
  readByModel,
  ScriptedChatModel,
  says,
  transcript,
  user,
} from "../test-support/scripted-agent.ts";
import { createReactAgent, createReactAgentAnnotation, ToolNode } from "./index.ts";

describe("createReactAgent: responseFormat", () => {
  it("asks the model, without its tools, for the structured response once the loop ends", async () => {
    const llm = new ScriptedChatModel([
      asks("ai-1", addCall("c1", 50, 10)),
      says("ai-2", "60 degrees"),
      says("ai-3", '{"temperature":60}'),
    ]);
    const agent = createReactAgent({
      llm,
      tools: [add],
      responseFormat: z.object({ temperature: z.number() }),
    });
    const result = await agent.invoke(user("temp?"));
    expect(Object.keys(result).sort()).toEqual(["messages", "structuredResponse"]);
    expect(result.structuredResponse).toEqual({ temperature: 60 });
    expect(transcript(result.messages).at(-1)).toBe("ai ai-2: 60 degrees");
    expect(readByModel(llm)[2]).toEqual(["human: temp?", "ai: ", "tool: 60", "ai: 60 degrees"]);
    expect(llm.seen.map((call) => call.tools)).toEqual([["add"], ["add"], []]);
    expect(llm.structured).toEqual([null]);
  });

  it("{ schema, prompt, ...options }: the prompt goes first for that call, the options to withStructuredOutput", async () => {
    const llm = new ScriptedChatModel([says("ai-1", "60 degrees"), says("ai-2", '{"temperature":60}')]);
    const responseFormat = {
      schema: z.object({ temperature: z.number() }),
      prompt: "Answer in JSON.",
      name: "weather",
    };
    const result = await createReactAgent({ llm, tools: [add], responseFormat }).invoke(user("temp?"));
    expect(result.structuredResponse).toEqual({ temperature: 60 });
    expect(readByModel(llm)).toEqual([
      ["human: temp?"],
      ["system: Answer in JSON.", "human: temp?", "ai: 60 degrees"],
    ]);
    expect(llm.structured).toEqual([{ name: "weather" }]);
  });
});

describe("createReactAgent: model hooks", () => {
  it("the pre-model hook's llmInputMessages are what the model reads; a post-model hook answering a call sends the agent back to the model", async () => {
    const llm = new ScriptedChatModel([
      asks("ai-1", addCall("c1", 1, 1)),
      asks("ai-2", addCall("c2", 2, 2)),
      says("ai-3", "done"),
    ]);
    const preModelHook = (state: { messages: any[] }) => ({
      llmInputMessages: [new SystemMessage(`turn with ${state.messages.length}`), state.messages.at(-1)],
    });
    let posts = 0;
    const postModelHook = (state: { messages: any[] }) => {
      posts++;
      // Refuses the second call itself: a ToolMessage answers it, so the tools do not run.
      if (state.messages.at(-1).tool_calls?.[0]?.id !== "c2") return {};
      return { messages: [{ role: "tool", content: "refused", tool_call_id: "c2" }] };
    };
    const checkpointer = new MemorySaver();
    const agent = createReactAgent({ llm, tools: [add], preModelHook, postModelHook, checkpointer });
    const config = { configurable: { thread_id: randomUUID() } };
    const result = await agent.invoke(user("go"), config);
    expect(Object.keys(result)).toEqual(["messages"]);
    expect(transcript(result.messages)).toEqual([
      "human: go",
      'ai ai-1:  → add {"a":1,"b":1} #c1',
      "tool #c1 (add) success: 2",
      'ai ai-2:  → add {"a":2,"b":2} #c2',
      "tool #c2: refused",
      "ai ai-3: done",
    ]);
    expect(readByModel(llm)).toEqual([
      ["system: turn with 1", "human: go"],
      ["system: turn with 3", "tool: 2"],
      ["system: turn with 5", "tool: refused"],
    ]);
    expect(posts).toBe(3);
    const { values } = await agent.getState(config);
    expect(Object.keys(values).sort()).toEqual(["llmInputMessages", "messages"]);
    expect(transcript((values as { llmInputMessages?: never }).llmInputMessages ?? [])).toEqual([
      "system: turn with 5",
      "tool #c2: refused",
    ]);
  });

  it("a pre-model hook may rewrite the messages themselves (a RemoveMessage trims the history)", async () => {
    const llm = new ScriptedChatModel([asks("ai-1", addCall("c1", 1, 1)), says("ai-2", "2")]);
    const preModelHook = (state: { messages: any[] }) =>
      state.messages.length > 2 ? { messages: [new RemoveMessage({ id: state.messages[0].id })] } : {};
    const result = await createReactAgent({ llm, tools: [add], preModelHook }).invoke(user("1+1"));
    expect(transcript(result.messages)).toEqual([
      'ai ai-1:  → add {"a":1,"b":1} #c1',
      "tool #c1 (add) success: 2",
      "ai ai-2: 2",
    ]);
    expect(readByModel(llm)).toEqual([["human: 1+1"], ["ai: ", "tool: 2"]]);
  });

  it('with "v2", the post-model hook\'s router sends only the calls still unanswered', async () => {
    const llm = new ScriptedChatModel([
      asks("ai-1", addCall("a", 1, 2), addCall("b", 3, 4)),
      says("ai-2", "ok"),
    ]);
    const postModelHook = (state: { messages: any[] }) =>
      state.messages.at(-1).tool_calls?.length
        ? { messages: [{ role: "tool", content: "no", tool_call_id: "a" }] }
        : {};
    const agent = createReactAgent({ llm, tools: [add], version: "v2", postModelHook });
    const result = await agent.invoke(user("both?"));
    expect(transcript(result.messages).slice(2)).toEqual([
      "tool #a: no",
      "tool #b (add) success: 7",
      "ai ai-2: ok",
    ]);
  });
});

describe("createReactAgent: state, model and tools", () => {
  it("a custom stateSchema's extra key is input, state the prompt reads, and output", async () => {
    const State = Annotation.Root({ ...createReactAgentAnnotation().spec, userName: Annotation<string> });
    const llm = new ScriptedChatModel([says("ai-1", "hi")]);
    const prompt = (state: typeof State.State) => [
      new SystemMessage(`user: ${state.userName}`),
      ...state.messages,
    ];
    const agent = createReactAgent({ llm, tools: [add], stateSchema: State, prompt });
    const result = await agent.invoke({ ...user("hello"), userName: "Ada" });
    expect([Object.keys(result).sort(), result.userName]).toEqual([["messages", "userName"], "Ada"]);
    expect(readByModel(llm)).toEqual([["system: user: Ada", "human: hello"]]);

    const Topic = new StateSchema({ messages: MessagesValue, topic: z.string() });
    const other = new ScriptedChatModel([says("ai-1", "hi")]);
    const topical = (state: typeof Topic.State) => [
      new SystemMessage(`topic ${state.topic}`),
      ...state.messages,
    ];
    await createReactAgent({ llm: other, tools: [add], stateSchema: Topic, prompt: topical }).invoke({
      ...user("hello"),
      topic: "birds",
    });
    expect(readByModel(other)).toEqual([["system: topic birds", "human: hello"]]);
  });

  it("takes a ToolNode, a model already bound to the tools (not bound again), a sequence, or a function choosing the model", async () => {
    const viaNode = new ScriptedChatModel([asks("ai-1", addCall("c1", 3, 4)), says("ai-2", "7")]);
    const result = await createReactAgent({ llm: viaNode, tools: new ToolNode([add]) }).invoke(user("3+4?"));
    expect(transcript(result.messages).slice(2)).toEqual(["tool #c1 (add) success: 7", "ai ai-2: 7"]);

    const bound = new ScriptedChatModel([says("ai-1", "hi")]);
    await createReactAgent({ llm: bound.bindTools([add]), tools: [add] }).invoke(user("hello"));
    const sequenced = new ScriptedChatModel([says("ai-1", "hi")]);
    const sequence = RunnableLambda.from((messages: unknown) => messages).pipe(sequenced);
    await createReactAgent({ llm: sequence, tools: [add] }).invoke(user("hello"));
    expect([bound.seen, sequenced.seen]).toEqual([
      [{ messages: [["human", "hello"]], tools: ["add"] }],
      [{ messages: [["human", "hello"]], tools: ["add"] }],
    ]);

    const chosen = new ScriptedChatModel([asks("ai-1", addCall("c1", 3, 4)), says("ai-2", "7")]);
    const lengths: number[] = [];
    const llm = (state: { messages: unknown[] }) => {
      lengths.push(state.messages.length);
      return chosen.bindTools([add]);
    };
    await createReactAgent({ llm, tools: [add], prompt: "sys" }).invoke(user("3+4?"));
    expect(readByModel(chosen)).toEqual([
      ["system: sys", "human: 3+4?"],
      ["system: sys", "human: 3+4?", "ai: ", "tool: 7"],
    ]);
    expect(lengths).toEqual([1, 3]);
  });

  it("tools reach the store given to the agent", async () => {
    const store = new InMemoryStore();
    await store.put(["prefs"], "ada", { seat: "aisle" });
    const prefs = tool(
      async (_args, config) => JSON.stringify((await (config as any).store.get(["prefs"], "ada")).value),
      { name: "prefs", description: "A user's preferences", schema: z.object({}) },
    );
    const llm = new ScriptedChatModel([
      asks("ai-1", { name: "prefs", args: {}, id: "p1" }),
      says("ai-2", "aisle"),
    ]);
    const result = await createReactAgent({ llm, tools: [prefs], store }).invoke(user("seat?"));
    expect(transcript(result.messages)[2]).toBe('tool #p1 (prefs) success: {"seat":"aisle"}');
  });

  it("a model bound to other tools than the agent's fails the run, as LangGraph's", async () => {
    const llm = new ScriptedChatModel([says("ai-1", "hi")]);
    const lookup = tool(() => "x", { name: "lookup", description: "l", schema: z.object({}) });
    const agent = createReactAgent({ llm: llm.bindTools([add]), tools: [add, lookup] });
    await expect(agent.invoke(user("hello"))).rejects.toThrow(/bound to 1 tools and the agent has 2/);
  });
});

describe("createReactAgent: refusals", () => {
  const llm = () => new ScriptedChatModel([]);
  it.each([
    ["a state without messages", { stateSchema: Annotation.Root({ foo: Annotation<string> }) }, /messages/],
    ["two prompts", { prompt: "a", stateModifier: "b" }, /one of prompt, stateModifier and messageModifier/],
    [
      "an unknown includeAgentName",
      { includeAgentName: "tool" },
      /includeAgentName is "inline" .* or left out; got "tool"/,
    ],
    ["an unknown option", { responseSchema: {} }, /unknown option "responseSchema"/],
    ["an unknown version", { version: "v3" }, /version is "v1" or "v2"/],
    [
      "responseFormat over a state without structuredResponse (LangGraph drops the answer)",
      { stateSchema: MessagesAnnotation, responseFormat: z.object({ t: z.number() }) },
      /lacks: add structuredResponse/,
    ],
    ["checkpointer: true", { checkpointer: true }, /checkpointer: true/],
  ])("%s, with InvalidGraphError", (_what, options, message) => {
    const build = () => createReactAgent({ llm: llm(), tools: [add], ...(options as object) });
    expect(build).toThrow(InvalidGraphError);
    expect(build).toThrow(message);
  });
});
