// withAgentName and createReactAgent's includeAgentName "inline", as agents under a supervisor
// use them. Expectations recorded from LangGraph.js 1.7.3 + @langchain/core 1.4.0 given the same
// messages and the same scripted model.
import {
  AIMessage,
  AIMessageChunk,
  type BaseMessage,
  HumanMessage,
  ToolMessage,
} from "@langchain/core/messages";
import { ChatPromptTemplate, MessagesPlaceholder } from "@langchain/core/prompts";
import { RunnableLambda } from "@langchain/core/runnables";
import { describe, expect, it } from "vitest";
import { InvalidGraphError, MemorySaver } from "../index.ts";
import {
  add,
  addCall,
  asks,
  readByModel,
  ScriptedChatModel,
  says,
  transcript,
} from "../test-support/scripted-agent.ts";
import { createReactAgent, withAgentName } from "./index.ts";

/** A message as the cases compare it: type, content, and the name, calls and id where set. */
const shown = (m: BaseMessage) => ({
  type: m.getType(),
  content: m.content,
  ...(m.name !== undefined ? { name: m.name } : {}),
  ...((m as AIMessage).tool_calls?.length ? { calls: (m as AIMessage).tool_calls?.map((c) => c.id) } : {}),
  ...(m.id ? { id: m.id } : {}),
});

/** What a model wrapped by withAgentName is given for `message`, and what its answer `answer` becomes. */
async function throughModel(message: BaseMessage, answer: BaseMessage = new AIMessage("ok")) {
  let given: BaseMessage[] = [];
  const model = RunnableLambda.from((messages: BaseMessage[]) => {
    given = messages;
    return answer;
  });
  const out = (await withAgentName(model, "inline").invoke([message])) as BaseMessage;
  return { given: given.map(shown), answer: shown(out) };
}

const tag = (name: string, text: string) => `<name>${name}</name><content>${text}</content>`;

describe("withAgentName: what the model is given", () => {
  it.each([
    [
      "a named AI message",
      new AIMessage({ content: "Hello", name: "alice", id: "a1" }),
      { type: "ai", content: tag("alice", "Hello"), id: "a1" },
    ],
    [
      "an unnamed one, unchanged",
      new AIMessage({ content: "Hello", id: "a2" }),
      { type: "ai", content: "Hello", id: "a2" },
    ],
    [
      "a named human message, unchanged",
      new HumanMessage({ content: "hi", name: "carol" }),
      { type: "human", content: "hi", name: "carol" },
    ],
    [
      "a tool message, unchanged",
      new ToolMessage({ content: "7", tool_call_id: "c1", name: "add" }),
      { type: "tool", content: "7", name: "add" },
    ],
    [
      "tool calls, empty content",
      new AIMessage({ content: "", name: "alice", tool_calls: [{ id: "c1", name: "add", args: { a: 1 } }] }),
      { type: "ai", content: tag("alice", ""), calls: ["c1"] },
    ],
    [
      "each text part of a list",
      new AIMessage({
        content: [
          { type: "text", text: "one" },
          { type: "image_url", image_url: "x" },
          { type: "text", text: "two" },
        ],
        name: "alice",
      }),
      {
        type: "ai",
        content: [
          { type: "text", text: tag("alice", "one") },
          { type: "image_url", image_url: "x" },
          { type: "text", text: tag("alice", "two") },
        ],
      },
    ],
    [
      "a list without text: a part naming the agent first",
      new AIMessage({ content: [{ type: "image_url", image_url: "x" }], name: "alice" }),
      {
        type: "ai",
        content: [
          { type: "text", text: tag("alice", "") },
          { type: "image_url", image_url: "x" },
        ],
      },
    ],
    [
      "a chunk, as a message",
      new AIMessageChunk({ content: "part", name: "alice", id: "k1" }),
      { type: "ai", content: tag("alice", "part"), id: "k1" },
    ],
  ])("%s", async (_case, message, expected) => {
    expect((await throughModel(message)).given).toEqual([expected]);
  });
});

describe("withAgentName: what the model's answer becomes", () => {
  it.each([
    [
      "tags taken out, the name kept",
      new AIMessage({ content: tag("bob", "Hello"), id: "o1", name: "zed" }),
      { type: "ai", content: "Hello", name: "bob", id: "o1" },
    ],
    [
      "no tags: as it was",
      new AIMessage({ content: "Hello", name: "zed" }),
      { type: "ai", content: "Hello", name: "zed" },
    ],
    [
      "a name without content: as it was",
      new AIMessage({ content: "<name>bob</name> hi" }),
      { type: "ai", content: "<name>bob</name> hi" },
    ],
    [
      "over lines",
      new AIMessage({ content: tag("bob", "line1\nline2") }),
      { type: "ai", content: "line1\nline2", name: "bob" },
    ],
    [
      "the first pair, text around dropped",
      new AIMessage({ content: `pre ${tag("a", "1")}${tag("b", "2")} post` }),
      { type: "ai", content: "1", name: "a" },
    ],
    [
      "tool calls kept",
      new AIMessage({ content: tag("bob", "calling"), tool_calls: [{ id: "c9", name: "add", args: {} }] }),
      { type: "ai", content: "calling", name: "bob", calls: ["c9"] },
    ],
    [
      "a part that only names the agent goes",
      new AIMessage({
        content: [
          { type: "text", text: tag("bob", "") },
          { type: "tool_use", id: "t", name: "add", input: {} },
        ],
      }),
      { type: "ai", content: [{ type: "tool_use", id: "t", name: "add", input: {} }], name: "bob" },
    ],
    [
      "text parts with content keep it",
      new AIMessage({
        content: [
          { type: "text", text: tag("bob", "Hi") },
          { type: "text", text: "plain" },
        ],
      }),
      {
        type: "ai",
        content: [
          { type: "text", text: "Hi" },
          { type: "text", text: "plain" },
        ],
        name: "bob",
      },
    ],
    [
      "a chunk, as a message",
      new AIMessageChunk({ content: tag("bob", "Hi") }),
      { type: "ai", content: "Hi", name: "bob" },
    ],
  ])("%s", async (_case, answer, expected) => {
    expect((await throughModel(new HumanMessage("q"), answer)).answer).toEqual(expected);
  });

  it("takes a chat prompt's value as its messages (LangGraph.js fails on it)", async () => {
    let given: BaseMessage[] = [];
    const model = RunnableLambda.from((messages: BaseMessage[]) => {
      given = messages;
      return new AIMessage("ok");
    });
    const prompt = ChatPromptTemplate.fromMessages([
      ["system", "Be brief."],
      new MessagesPlaceholder("messages"),
    ]);
    await prompt
      .pipe(withAgentName(model, "inline"))
      .invoke({ messages: [new AIMessage({ content: "hi", name: "bob" })] });
    expect(given.map(shown)).toEqual([
      { type: "system", content: "Be brief." },
      { type: "ai", content: tag("bob", "hi") },
    ]);
  });

  it("refuses a mode other than inline, typed", () => {
    expect(() => withAgentName(new ScriptedChatModel([]), "xml" as never)).toThrow(InvalidGraphError);
  });
});

describe("createReactAgent({ includeAgentName: 'inline' })", () => {
  it("the model reads who wrote each AI message; the agent's answers carry its name and plain content", async () => {
    const llm = new ScriptedChatModel([
      asks("ai-1", addCall("c1", 3, 4)),
      says("ai-2", tag("alice", "It is 7.")),
    ]);
    const agent = createReactAgent({
      llm,
      tools: [add],
      name: "alice",
      includeAgentName: "inline",
      checkpointer: new MemorySaver(),
    });
    const history = [
      new HumanMessage({ content: "3+4?", id: "h1" }),
      new AIMessage({ content: "Ask alice.", name: "bob", id: "b1" }),
    ];
    const result = await agent.invoke({ messages: history }, { configurable: { thread_id: "t" } });
    expect(transcript(result.messages)).toEqual([
      "human: 3+4?",
      "ai b1 (bob): Ask alice.",
      'ai ai-1 (alice):  → add {"a":3,"b":4} #c1',
      "tool #c1 (add) success: 7",
      "ai ai-2 (alice): It is 7.",
    ]);
    expect(readByModel(llm)).toEqual([
      ["human: 3+4?", `ai: ${tag("bob", "Ask alice.")}`],
      ["human: 3+4?", `ai: ${tag("bob", "Ask alice.")}`, `ai: ${tag("alice", "")}`, "tool: 7"],
    ]);
  });

  it("wraps a model chosen per call too", async () => {
    const llm = new ScriptedChatModel([says("ai-3", "plain answer")]);
    const agent = createReactAgent({
      llm: () => llm.bindTools([add]),
      tools: [add],
      includeAgentName: "inline",
    });
    const from = new AIMessage({ content: [{ type: "text", text: "from bob" }], name: "bob", id: "b2" });
    const result = await agent.invoke({ messages: [from, new HumanMessage("go")] });
    expect(transcript(result.messages).slice(2)).toEqual(["ai ai-3: plain answer"]);
    expect(llm.seen.map((call) => call.messages)).toEqual([
      [
        ["ai", [{ type: "text", text: tag("bob", "from bob") }]],
        ["human", "go"],
      ],
    ]);
  });
});

describe("withAgentName: messages that are not message objects", () => {
  // LangGraph checks isBaseMessage first and gives anything else to the model as it is.
  it("passes plain-object, tuple and string messages to the model unchanged ", async () => {
    let given: unknown;
    const model = RunnableLambda.from((messages: unknown) => {
      given = messages;
      return new AIMessage("ok");
    });
    const input = [
      { role: "system", content: "sys" },
      { role: "assistant", content: "x", name: "bob" },
      ["human", "hi"],
      "hello",
    ];
    const out = (await withAgentName(model, "inline").invoke(input as never)) as BaseMessage;
    expect(given).toEqual(input);
    expect(out.content).toBe("ok");
  });

  it("createReactAgent includeAgentName 'inline' with a prompt function returning { role: 'system' } (LangGraph.js docs' pattern) runs", async () => {
    const llm = new ScriptedChatModel([says("ai-1", tag("alice", "hi"))]);
    const agent = createReactAgent({
      llm,
      tools: [add],
      name: "alice",
      includeAgentName: "inline",
      prompt: ((state: { messages: BaseMessage[] }) => [
        { role: "system", content: "Be brief." },
        ...state.messages,
      ]) as never,
    });
    const result = await agent.invoke({
      messages: [new HumanMessage("q"), new AIMessage({ content: "x", name: "bob", id: "b1" })],
    });
    // Recorded from LangGraph.js 1.7.3.
    expect(transcript(result.messages)).toEqual(["human: q", "ai b1 (bob): x", "ai ai-1 (alice): hi"]);
    expect(llm.seen.map((call) => call.messages)).toEqual([
      [
        ["system", "Be brief."],
        ["human", "q"],
        ["ai", tag("bob", "x")],
      ],
    ]);
  });
});

describe("withAgentName: the answer's name when its text parts name different agents", () => {
  // LangGraph filters the name-only parts first (setting the name), then maps the parts with
  // content (setting it again): a part with content wins.
  it("names the answer after the part that has content", async () => {
    const answer = new AIMessage({
      content: [
        { type: "text", text: tag("a", "Hi") },
        { type: "text", text: tag("b", "") },
      ],
    });
    const model = RunnableLambda.from(() => answer);
    const out = (await withAgentName(model, "inline").invoke([new HumanMessage("q")])) as BaseMessage;
    expect(out.content).toEqual([{ type: "text", text: "Hi" }]);
    expect(out.name).toBe("a");
  });
});
