// createReactAgent as agents ported from "@langchain/langgraph/prebuilt" use it: the tool loop,
// prompts, pauses and the graph's versions. Expectations recorded from LangGraph.js 1.7.3 +
// @langchain/core 1.4.0 running the same agents with the same scripted model.
import { randomUUID } from "node:crypto";
import { type BaseMessage, SystemMessage } from "@langchain/core/messages";
import { tool } from "@langchain/core/tools";
import { describe, expect, it } from "vitest";
import * as z from "zod";
import { Command, interrupt, MemorySaver } from "../index.ts";
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
import { createReactAgent } from "./index.ts";

const lookup = tool(({ q }) => `found ${q}`, {
  name: "lookup",
  description: "Look something up; its answer is the agent's",
  schema: z.object({ q: z.string() }),
  returnDirect: true,
});

const thread = () => ({ configurable: { thread_id: randomUUID() } });

/** Each update of a stream, its messages as a transcript, under the node that wrote them. */
async function updates(stream: AsyncIterable<Record<string, { messages: never[] }>>) {
  const chunks: Record<string, string[]>[] = [];
  for await (const chunk of stream) {
    chunks.push(Object.fromEntries(Object.entries(chunk).map(([node, u]) => [node, transcript(u.messages)])));
  }
  return chunks;
}

describe("createReactAgent: the tool loop", () => {
  it("binds the tools, runs the calls the model asks for and loops until it answers", async () => {
    const llm = new ScriptedChatModel([asks("ai-1", addCall("c1", 3, 4)), says("ai-2", "It is 7.")]);
    const agent = createReactAgent({ llm, tools: [add] });
    const result = await agent.invoke(user("3+4?"));
    expect(Object.keys(result)).toEqual(["messages"]);
    expect(transcript(result.messages)).toEqual([
      "human: 3+4?",
      'ai ai-1:  → add {"a":3,"b":4} #c1',
      "tool #c1 (add) success: 7",
      "ai ai-2: It is 7.",
    ]);
    expect(readByModel(llm)).toEqual([["human: 3+4?"], ["human: 3+4?", "ai: ", "tool: 7"]]);
    expect(llm.seen.map((call) => call.tools)).toEqual([["add"], ["add"]]);
  });

  it("a string prompt is a system message before the state's; a function prompt gets the state and the config", async () => {
    const terse = new ScriptedChatModel([says("ai-1", "hi")]);
    const first = await createReactAgent({ llm: terse, tools: [add], prompt: "Be terse." }).invoke(
      user("hello"),
    );
    expect(transcript(first.messages)).toEqual(["human: hello", "ai ai-1: hi"]);
    expect(readByModel(terse)).toEqual([["system: Be terse.", "human: hello"]]);

    const personal = new ScriptedChatModel([says("ai-1", "hi")]);
    const prompt = (
      state: { messages: BaseMessage[] },
      config: { configurable?: Record<string, unknown> },
    ) => [new SystemMessage(`user is ${config.configurable?.user}`), ...state.messages];
    await createReactAgent({ llm: personal, tools: [add], prompt }).invoke(user("hello"), {
      configurable: { user: "ada" },
    });
    expect(readByModel(personal)).toEqual([["system: user is ada", "human: hello"]]);
  });

  it("the deprecated messageModifier gets the messages", async () => {
    const llm = new ScriptedChatModel([says("ai-1", "hi")]);
    const messageModifier = (messages: BaseMessage[]) => [new SystemMessage("mm"), ...messages];
    await createReactAgent({ llm, tools: [add], messageModifier }).invoke(user("hello"));
    expect(readByModel(llm)).toEqual([["system: mm", "human: hello"]]);
  });

  it("name names the graph and every AI message", async () => {
    const llm = new ScriptedChatModel([asks("ai-1", addCall("c1", 1, 1)), says("ai-2", "2")]);
    const agent = createReactAgent({ llm, tools: [add], name: "math_agent" });
    const result = await agent.invoke(user("1+1"));
    expect(agent.name).toBe("math_agent");
    expect(transcript(result.messages)).toEqual([
      "human: 1+1",
      'ai ai-1 (math_agent):  → add {"a":1,"b":1} #c1',
      "tool #c1 (add) success: 2",
      "ai ai-2 (math_agent): 2",
    ]);
  });

  it('streamMode "updates" gives each node\'s messages as it finishes', async () => {
    const llm = new ScriptedChatModel([asks("ai-1", addCall("c1", 3, 4)), says("ai-2", "7")]);
    const agent = createReactAgent({ llm, tools: [add] });
    expect(await updates((await agent.stream(user("3+4?"), { streamMode: "updates" })) as never)).toEqual([
      { agent: ['ai ai-1:  → add {"a":3,"b":4} #c1'] },
      { tools: ["tool #c1 (add) success: 7"] },
      { agent: ["ai ai-2: 7"] },
    ]);
  });
});

describe("createReactAgent: pauses", () => {
  it('interruptBefore: ["tools"] stops before the calls run; invoke(null) runs them and the agent finishes', async () => {
    const llm = new ScriptedChatModel([asks("ai-1", addCall("c1", 1, 2)), says("ai-2", "3")]);
    const agent = createReactAgent({
      llm,
      tools: [add],
      checkpointer: new MemorySaver(),
      interruptBefore: ["tools"],
    });
    const config = thread();
    const paused = await agent.invoke(user("1+2?"), config);
    expect(transcript(paused.messages)).toEqual(["human: 1+2?", 'ai ai-1:  → add {"a":1,"b":2} #c1']);
    expect(paused.__interrupt__ ?? []).toEqual([]);
    expect((await agent.getState(config)).next).toEqual(["tools"]);
    const done = await agent.invoke(null, config);
    expect(transcript(done.messages).slice(2)).toEqual(["tool #c1 (add) success: 3", "ai ai-2: 3"]);
    expect((await agent.getState(config)).next).toEqual([]);
  });

  it("interruptAfter the agent stops after each model turn", async () => {
    const llm = new ScriptedChatModel([asks("ai-1", addCall("c1", 1, 2)), says("ai-2", "3")]);
    const agent = createReactAgent({
      llm,
      tools: [add],
      checkpointSaver: new MemorySaver(),
      interruptAfter: ["agent"],
    });
    const config = thread();
    await agent.invoke(user("1+2?"), config);
    expect((await agent.getState(config)).next).toEqual(["tools"]);
    const done = await agent.invoke(null, config);
    expect(transcript(done.messages).at(-1)).toBe("ai ai-2: 3");
    expect((await agent.getState(config)).next).toEqual([]);
  });

  // LangGraph's tools take it from their runtime too: without it there, the tool's error became a
  // message and the agent went on, the approval skipped.
  it.each([
    ["interrupt()", (question: unknown) => interrupt(question)],
    [
      "runtime.interrupt()",
      (question: unknown, runtime: { interrupt: typeof interrupt }) => runtime.interrupt(question),
    ],
  ])("a tool that calls %s pauses the agent in the tools node; the resume answers it", async (_, ask) => {
    const book = tool(
      (({ flight }: { flight: string }, runtime: { interrupt: typeof interrupt }) =>
        `${flight}: ${ask({ question: `book ${flight}?` }, runtime)}`) as never,
      {
        name: "book",
        description: "Book a flight",
        schema: z.object({ flight: z.string() }),
      },
    );
    const llm = new ScriptedChatModel([
      asks("ai-1", { name: "book", args: { flight: "LH400" }, id: "b1" }),
      says("ai-2", "booked"),
    ]);
    const agent = createReactAgent({ llm, tools: [book], checkpointer: new MemorySaver() });
    const config = thread();
    const paused = await agent.invoke(user("book LH400"), config);
    expect(paused.__interrupt__?.map((i) => i.value)).toEqual([{ question: "book LH400?" }]);
    expect(transcript(paused.messages)).toEqual([
      "human: book LH400",
      'ai ai-1:  → book {"flight":"LH400"} #b1',
    ]);
    expect((await agent.getState(config)).next).toEqual(["tools"]);
    const done = await agent.invoke(new Command({ resume: "yes" }), config);
    expect(transcript(done.messages).slice(2)).toEqual([
      "tool #b1 (book) success: LH400: yes",
      "ai ai-2: booked",
    ]);
  });
});

describe('createReactAgent: version "v2" and returnDirect', () => {
  const twoCalls = () =>
    new ScriptedChatModel([asks("ai-1", addCall("a", 1, 2), addCall("b", 3, 4)), says("ai-2", "3 and 7")]);

  it('"v2" sends each call to the tools node on its own; the answers come in the calls\' order', async () => {
    const llm = twoCalls();
    const agent = createReactAgent({ llm, tools: [add], version: "v2" });
    const result = await agent.invoke(user("both?"));
    expect(transcript(result.messages)).toEqual([
      "human: both?",
      'ai ai-1:  → add {"a":1,"b":2} #a → add {"a":3,"b":4} #b',
      "tool #a (add) success: 3",
      "tool #b (add) success: 7",
      "ai ai-2: 3 and 7",
    ]);
    expect(readByModel(llm)[1]).toEqual(["human: both?", "ai: ", "tool: 3", "tool: 7"]);
    const again = createReactAgent({ llm: twoCalls(), tools: [add], version: "v2" });
    expect(await updates((await again.stream(user("both?"), { streamMode: "updates" })) as never)).toEqual([
      { agent: ['ai ai-1:  → add {"a":1,"b":2} #a → add {"a":3,"b":4} #b'] },
      { tools: ["tool #a (add) success: 3"] },
      { tools: ["tool #b (add) success: 7"] },
      { agent: ["ai ai-2: 3 and 7"] },
    ]);
  });

  it('"v2" with interruptBefore: ["tools"] pauses before both sends; invoke(null) runs them', async () => {
    const agent = createReactAgent({
      llm: twoCalls(),
      tools: [add],
      version: "v2",
      checkpointer: new MemorySaver(),
      interruptBefore: ["tools"],
    });
    const config = thread();
    await agent.invoke(user("both?"), config);
    const state = await agent.getState(config);
    expect([state.next, state.tasks.map((task) => task.name)]).toEqual([
      ["tools", "tools"],
      ["tools", "tools"],
    ]);
    const done = await agent.invoke(null, config);
    expect(transcript(done.messages).slice(2)).toEqual([
      "tool #a (add) success: 3",
      "tool #b (add) success: 7",
      "ai ai-2: 3 and 7",
    ]);
  });

  it("a returnDirect tool's answer ends the run without asking the model again", async () => {
    const llm = new ScriptedChatModel([
      asks("ai-1", { name: "lookup", args: { q: "x" }, id: "l1" }),
      says("ai-2", "never"),
    ]);
    const result = await createReactAgent({ llm, tools: [add, lookup] }).invoke(user("look x"));
    expect(transcript(result.messages)).toEqual([
      "human: look x",
      'ai ai-1:  → lookup {"q":"x"} #l1',
      "tool #l1 (lookup) success: found x",
    ]);
    expect(llm.seen).toHaveLength(1);
  });

  it("one returnDirect call among others ends the run too", async () => {
    const llm = new ScriptedChatModel([
      asks("ai-1", addCall("a", 1, 1), { name: "lookup", args: { q: "x" }, id: "l1" }),
      says("ai-2", "again"),
    ]);
    const result = await createReactAgent({ llm, tools: [add, lookup] }).invoke(user("both"));
    expect(transcript(result.messages).slice(2)).toEqual([
      "tool #a (add) success: 2",
      "tool #l1 (lookup) success: found x",
    ]);
    expect(llm.seen).toHaveLength(1);
  });
});
