// LangGraph's "review tool calls" patterns on an agent paused before its tools: a person edits
// the model's call and lets the agent go on. Expectations recorded from LangGraph.js 1.7.3 +
// @langchain/core 1.4.0 running the same agents with the same scripted model.
import { randomUUID } from "node:crypto";
import { AIMessage } from "@langchain/core/messages";
import { describe, expect, it } from "vitest";
import { Command, END, MemorySaver, MessagesAnnotation, START, StateGraph } from "../index.ts";
import {
  add,
  addCall,
  asks,
  ScriptedChatModel,
  says,
  transcript,
  user,
} from "../test-support/scripted-agent.ts";
import { createReactAgent, ToolNode, toolsCondition } from "./index.ts";

const thread = () => ({ configurable: { thread_id: randomUUID() } });

/** agent → toolsCondition → ToolNode, built by hand, paused before the tools. */
function handBuilt(llm: ScriptedChatModel) {
  const model = llm.bindTools([add]);
  return new StateGraph(MessagesAnnotation)
    .addNode("agent", async (s) => ({ messages: [await model.invoke(s.messages)] }))
    .addNode("tools", new ToolNode([add]))
    .addEdge(START, "agent")
    .addConditionalEdges("agent", toolsCondition, ["tools", END])
    .addEdge("tools", "agent")
    .compile({ checkpointer: new MemorySaver(), interruptBefore: ["tools"] });
}

const agents = {
  createReactAgent: (llm: ScriptedChatModel) =>
    createReactAgent({ llm, tools: [add], checkpointer: new MemorySaver(), interruptBefore: ["tools"] }),
  "a hand-built agent": handBuilt,
};

describe.each(Object.entries(agents))("reviewing tool calls: %s paused before its tools", (_name, build) => {
  it("Command({ update }) with the call edited goes on past the pause: the tool runs with the edited arguments", async () => {
    const llm = new ScriptedChatModel([asks("ai-1", addCall("c1", 1, 2)), says("ai-2", "It is 30.")]);
    const agent = build(llm);
    const config = thread();
    await agent.invoke(user("1+2?"), config);
    const asked = (await agent.getState(config)).values.messages.at(-1) as AIMessage;
    const call = asked.tool_calls?.[0] as NonNullable<AIMessage["tool_calls"]>[number];
    const edited = new AIMessage({
      id: asked.id as string,
      content: "",
      tool_calls: [{ ...call, id: call.id as string, args: { a: 10, b: 20 } }],
    });

    const result = await agent.invoke(new Command({ update: { messages: [edited] } }), config);
    expect(transcript(result.messages)).toEqual([
      "human: 1+2?",
      'ai ai-1:  → add {"a":10,"b":20} #c1',
      "tool #c1 (add) success: 30",
      "ai ai-2: It is 30.",
    ]);
    expect((await agent.getState(config)).next).toEqual([]);
  });
});

describe('reviewing tool calls: createReactAgent version "v2" (a Send per call) paused before its tools', () => {
  it("updateState with the call edited (same id) runs the tool once, with the edited arguments only", async () => {
    const llm = new ScriptedChatModel([asks("ai-1", addCall("c1", 1, 2)), says("ai-2", "It is 30.")]);
    const agent = createReactAgent({
      llm,
      tools: [add],
      checkpointer: new MemorySaver(),
      interruptBefore: ["tools"],
      version: "v2",
    });
    const config = thread();
    await agent.invoke(user("1+2?"), config);
    const asked = (await agent.getState(config)).values.messages.at(-1) as AIMessage;
    const edited = new AIMessage({
      id: asked.id as string,
      content: "",
      tool_calls: [addCall("c1", 10, 20)],
    });
    await agent.updateState(config, { messages: [edited] });
    expect((await agent.getState(config)).next).toEqual(["tools"]);

    const result = await agent.invoke(null, config);
    expect(transcript(result.messages)).toEqual([
      "human: 1+2?",
      'ai ai-1:  → add {"a":10,"b":20} #c1',
      "tool #c1 (add) success: 30",
      "ai ai-2: It is 30.",
    ]);
  });
});
