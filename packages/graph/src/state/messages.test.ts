import { execFile } from "node:child_process";
import { promisify } from "node:util";
import {
  AIMessage,
  AIMessageChunk,
  HumanMessage,
  HumanMessageChunk,
  isHumanMessage,
  RemoveMessage,
  ToolMessage,
  ToolMessageChunk,
} from "@langchain/core/messages";
import { describe, expect, it } from "vitest";
import { MemorySaver, Overwrite, START, StateGraph } from "../index.ts";
import { MessagesAnnotation, messagesStateReducer, REMOVE_ALL_MESSAGES } from "./messages.ts";

const run = promisify(execFile);

describe("messagesStateReducer (LangGraph's addMessages)", () => {
  it("appends, gives messages without an id one, and replaces a message that has the id of one there", () => {
    const first = messagesStateReducer(
      [],
      [new HumanMessage("hi"), new AIMessage({ content: "draft", id: "a1" })],
    );
    expect(first.map((m) => m.id)).toEqual([expect.any(String), "a1"]);
    const edited = messagesStateReducer(first, [new AIMessage({ content: "final", id: "a1" }), "and then?"]);
    expect(edited.map((m) => [m.id, (m as unknown as AIMessage).content])).toEqual([
      [first[0]?.id, "hi"],
      ["a1", "final"],
      [expect.any(String), "and then?"],
    ]);
  });

  it("makes messages of what LangChain coerces: strings, { role, content } and serialized messages", () => {
    const serialized = JSON.parse(JSON.stringify(new ToolMessage({ content: "done", tool_call_id: "c1" })));
    const out = messagesStateReducer([], ["plain", { role: "user", content: "as an object" }, serialized]);
    expect(out.map((m) => (m as unknown as HumanMessage).getType())).toEqual(["human", "human", "tool"]);
    expect(isHumanMessage(out[1] as unknown as HumanMessage)).toBe(true);
  });

  it("removes a message by id, refuses to remove an unknown one, and clears all with REMOVE_ALL_MESSAGES", () => {
    const list = messagesStateReducer(
      [],
      [new HumanMessage({ content: "a", id: "1" }), new HumanMessage({ content: "b", id: "2" })],
    );
    expect(messagesStateReducer(list, new RemoveMessage({ id: "1" })).map((m) => m.id)).toEqual(["2"]);
    expect(() => messagesStateReducer(list, new RemoveMessage({ id: "nope" }))).toThrow('"nope"');
    const cleared = messagesStateReducer(list, [new RemoveMessage({ id: REMOVE_ALL_MESSAGES }), "fresh"]);
    expect(cleared.map((m) => (m as unknown as HumanMessage).content)).toEqual(["fresh"]);
  });
});

describe("messagesStateReducer, where LangGraph.js 1.7.3 is the reference", () => {
  const base = () => [
    new HumanMessage({ content: "a", id: "1" }),
    new HumanMessage({ content: "b", id: "2" }),
    new HumanMessage({ content: "c", id: "3" }),
  ];
  const show = (list: unknown[]) =>
    list.map((m) => `${(m as HumanMessage).id}:${String((m as HumanMessage).content)}`);

  it("a RemoveMessage then a message with the same id replaces it in place", () => {
    const out = messagesStateReducer(base(), [
      new RemoveMessage({ id: "1" }),
      new HumanMessage({ content: "A", id: "1" }),
    ]);
    expect(show(out)).toEqual(["1:A", "2:b", "3:c"]);
  });

  it('makes a chunk its message class: a model streaming under "messages" returns an AIMessageChunk', () => {
    const out = messagesStateReducer(
      [new HumanMessageChunk({ content: "q", id: "h" })],
      [
        new AIMessageChunk({
          content: "ab",
          id: "a1",
          tool_call_chunks: [
            { name: "search", args: '{"q":"x"}', id: "c1", index: 0, type: "tool_call_chunk" },
          ],
          response_metadata: { model: "m" },
        }),
        new ToolMessageChunk({ content: "r", tool_call_id: "c1", id: "t1" }),
      ],
    );
    expect(out.map((m) => m.constructor.name)).toEqual(["HumanMessage", "AIMessage", "ToolMessage"]);
    const ai = out[1] as unknown as AIMessage;
    expect(ai).toBeInstanceOf(AIMessage);
    expect(ai).toMatchObject({
      id: "a1",
      content: "ab",
      tool_calls: [{ name: "search", args: { q: "x" }, id: "c1", type: "tool_call" }],
      response_metadata: { model: "m" },
    });
    expect("tool_call_chunks" in ai).toBe(false);
    expect(out[2]).toMatchObject({ id: "t1", content: "r", tool_call_id: "c1" });
  });

  it("makes a chunk of another copy of @langchain/core (its CommonJS build) its message class too", async () => {
    // In a plain Node process, as an app runs: the engine imports @langchain/core's ES module, a
    // require() its CommonJS build, whose classes are others (vitest's loader would hide that).
    const script = `
      import { createRequire } from "node:module";
      const { messagesStateReducer } = await import(${JSON.stringify(new URL("../index.ts", import.meta.url).href)});
      const cjs = createRequire(${JSON.stringify(import.meta.url)})("@langchain/core/messages");
      const [message] = messagesStateReducer([], [new cjs.AIMessageChunk({ content: "x", id: "a1" })]);
      console.log(JSON.stringify({ type: message.constructor.name, id: message.id, content: message.content }));`;
    const { stdout } = await run(process.execPath, ["--no-warnings", "--input-type=module", "-e", script]);
    expect(JSON.parse(stdout)).toEqual({ type: "AIMessage", id: "a1", content: "x" });
  });

  it("the same id removed twice in one update is removed once, not an error", () => {
    const out = messagesStateReducer(base(), [
      new RemoveMessage({ id: "1" }),
      new RemoveMessage({ id: "1" }),
    ]);
    expect(show(out)).toEqual(["2:b", "3:c"]);
  });
});

describe("MessagesAnnotation", () => {
  it("runs a LangGraph.js chat graph unchanged: message-likes in, LangChain messages out", async () => {
    const graph = new StateGraph(MessagesAnnotation)
      .addNode("agent", (state) => ({
        messages: [
          new AIMessage(`you said: ${String((state.messages.at(-1) as unknown as HumanMessage).content)}`),
        ],
      }))
      .addEdge(START, "agent")
      .compile({ checkpointer: new MemorySaver() });
    const config = { configurable: { thread_id: "messages-annotation" } };
    const result = await graph.invoke({ messages: [{ role: "user", content: "book it" }] }, config);
    expect(result.messages.map((m) => (m as unknown as HumanMessage).getType())).toEqual(["human", "ai"]);
    expect((result.messages[1] as unknown as AIMessage).content).toBe("you said: book it");
    // An Overwrite replaces the list (a summary in place of the history), as in LangGraph.
    const summarize = new StateGraph(MessagesAnnotation)
      .addNode("summarize", () => ({ messages: new Overwrite([new AIMessage("summary")]) }))
      .addEdge(START, "summarize")
      .compile();
    const summarized = await summarize.invoke({ messages: ["one", "two"] });
    expect(summarized.messages.map((m) => (m as unknown as AIMessage).content)).toEqual(["summary"]);
    // Stored and read back: messages still.
    const state = await graph.getState(config);
    expect(isHumanMessage(state.values.messages[0] as unknown as HumanMessage)).toBe(true);
  });
});
