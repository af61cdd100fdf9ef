// What agent code builds from LangGraph's guides (the quickstart's hand-written tool loop,
// messages trimmed with RemoveMessage, subgraphs as a node and called inside a node), with only
// the import changed from "@langchain/langgraph" to "@layover/graph". The chat model is a stand-in
// that asks for a tool once, then answers.

import { randomUUID } from "node:crypto";
import {
  AIMessage,
  type BaseMessage,
  HumanMessage,
  isAIMessage,
  RemoveMessage,
  type ToolMessage,
} from "@langchain/core/messages";
import { tool } from "@langchain/core/tools";
import { describe, expect, it } from "vitest";
import * as z from "zod";
import {
  Annotation,
  Command,
  type ConditionalEdgeRouter,
  END,
  type GraphNode,
  interrupt,
  MemorySaver,
  MessagesAnnotation,
  MessagesValue,
  START,
  StateGraph,
  StateSchema,
} from "../index.ts";

const add = tool(({ a, b }) => `${a + b}`, {
  name: "add",
  description: "Add two numbers",
  schema: z.object({ a: z.number(), b: z.number() }),
});
const toolsByName: Record<string, typeof add> = { [add.name]: add };
const modelWithTools = {
  async invoke(messages: BaseMessage[]): Promise<AIMessage> {
    const last = messages.at(-1);
    if (last?.getType() === "tool") return new AIMessage(`The sum is ${last.content}.`);
    return new AIMessage({
      content: "",
      tool_calls: [{ name: "add", args: { a: 3, b: 4 }, id: "call-1", type: "tool_call" }],
    });
  },
};

describe("quickstart: an agent's tool loop written by hand", () => {
  const MessagesState = new StateSchema({
    messages: MessagesValue,
    llmCalls: z.number().optional(),
  });
  const llmCall: GraphNode<typeof MessagesState> = async (state) => {
    const response = await modelWithTools.invoke(state.messages);
    return { messages: [response], llmCalls: (state.llmCalls ?? 0) + 1 };
  };
  const toolNode: GraphNode<typeof MessagesState> = async (state) => {
    const lastMessage = state.messages.at(-1);
    if (lastMessage == null || !isAIMessage(lastMessage)) {
      return { messages: [] };
    }
    const result: ToolMessage[] = [];
    for (const toolCall of lastMessage.tool_calls ?? []) {
      const tool = toolsByName[toolCall.name];
      const observation = await tool?.invoke(toolCall);
      if (observation) result.push(observation);
    }
    return { messages: result };
  };
  const shouldContinue: ConditionalEdgeRouter<typeof MessagesState, "toolNode"> = (state) => {
    const lastMessage = state.messages.at(-1);
    if (!lastMessage || !isAIMessage(lastMessage)) return END;
    if (lastMessage.tool_calls?.length) return "toolNode";
    return END;
  };
  const agent = new StateGraph(MessagesState)
    .addNode("llmCall", llmCall)
    .addNode("toolNode", toolNode)
    .addEdge(START, "llmCall")
    .addConditionalEdges("llmCall", shouldContinue, ["toolNode", END])
    .addEdge("toolNode", "llmCall")
    .compile({ checkpointer: new MemorySaver() });

  it("calls the tool, then answers; the thread keeps every message", async () => {
    const config = { configurable: { thread_id: randomUUID() } };
    const result = await agent.invoke({ messages: [new HumanMessage("Add 3 and 4.")] }, config);
    expect(result.messages.map((message) => [message.getType(), message.content])).toEqual([
      ["human", "Add 3 and 4."],
      ["ai", ""],
      ["tool", "7"],
      ["ai", "The sum is 7."],
    ]);
    expect(result.llmCalls).toBe(2);
    const state = await agent.getState(config);
    expect((state.values.messages as BaseMessage[]).every((message) => typeof message.id === "string")).toBe(
      true,
    );
  });
});

describe("messages: MessagesAnnotation, its spec spread, RemoveMessage", () => {
  it("a node deletes all but the last two messages by id; a message with a known id replaces it", async () => {
    const State = Annotation.Root({
      ...MessagesAnnotation.spec,
      turns: Annotation<number>({ reducer: (a, b) => a + b, default: () => 0 }),
    });
    const graph = new StateGraph(State)
      .addNode("chat", (state: typeof State.State) => ({
        messages: [
          new AIMessage({
            content: `echo ${state.messages.at(-1)?.content}`,
            id: `ai-${state.messages.length}`,
          }),
        ],
        turns: 1,
      }))
      .addNode("trim", (state: typeof State.State) => ({
        messages: state.messages.slice(0, -2).map((m) => new RemoveMessage({ id: m.id as string })),
      }))
      .addEdge(START, "chat")
      .addEdge("chat", "trim")
      .compile({ checkpointer: new MemorySaver() });
    const config = { configurable: { thread_id: randomUUID() } };
    await graph.invoke({ messages: [new HumanMessage({ content: "one", id: "h1" })] }, config);
    const second = await graph.invoke({ messages: [new HumanMessage({ content: "two", id: "h2" })] }, config);
    expect(second.messages.map((m) => [m.id, m.content])).toEqual([
      ["h2", "two"],
      ["ai-3", "echo two"],
    ]);
    expect(second.turns).toBe(2);
  });
});

describe("use-subgraphs: as a node, and called inside a node", () => {
  it("a subgraph with a shared key is a node; one with other keys is called with a transformation", async () => {
    const SubgraphState = new StateSchema({ foo: z.string(), bar: z.string().optional() });
    const subgraph = new StateGraph(SubgraphState)
      .addNode("subgraphNode1", () => ({ bar: "bar" }))
      .addNode("subgraphNode2", (state: typeof SubgraphState.State) => ({ foo: state.foo + state.bar }))
      .addEdge(START, "subgraphNode1")
      .addEdge("subgraphNode1", "subgraphNode2")
      .compile();
    const ParentState = new StateSchema({ foo: z.string() });
    const asNode = new StateGraph(ParentState)
      .addNode("node1", (state: typeof ParentState.State) => ({ foo: `hi! ${state.foo}` }))
      .addNode("node2", subgraph)
      .addEdge(START, "node1")
      .addEdge("node1", "node2")
      .compile();
    expect(await asNode.invoke({ foo: "foo" })).toEqual({ foo: "hi! foobar" });

    const OtherState = new StateSchema({ bar: z.string() });
    const other = new StateGraph(OtherState)
      .addNode("s", (s: typeof OtherState.State) => ({ bar: `${s.bar}!` }))
      .addEdge(START, "s")
      .compile();
    // The node's own config passed on (its callbacks, tags, context reach the subgraph's nodes).
    const callSubgraph: GraphNode<typeof ParentState> = async (state, config) => {
      const subgraphOutput = await other.invoke({ bar: state.foo }, config);
      return { foo: subgraphOutput.bar };
    };
    const inNode = new StateGraph(ParentState)
      .addNode("node1", callSubgraph)
      .addEdge(START, "node1")
      .compile();
    expect(await inNode.invoke({ foo: "foo" })).toEqual({ foo: "foo!" });
  });

  it("a subgraph's interrupt pauses the parent; getState shows the waiting task; Command resumes it", async () => {
    const State = new StateSchema({ foo: z.string() });
    const subgraph = new StateGraph(State)
      .addNode("ask", (state: typeof State.State) => ({
        foo: `${state.foo}:${interrupt<string, string>("continue?")}`,
      }))
      .addEdge(START, "ask")
      .compile();
    const graph = new StateGraph(State)
      .addNode("outer", async (state: typeof State.State) => ({
        foo: `${(await subgraph.invoke(state)).foo}!`,
      }))
      .addEdge(START, "outer")
      .compile({ checkpointer: new MemorySaver() });
    const config = { configurable: { thread_id: randomUUID() } };
    const paused = await graph.invoke({ foo: "x" }, config);
    expect(paused.__interrupt__?.map((i) => i.value)).toEqual(["continue?"]);
    const state = await graph.getState(config);
    expect(state.next).toEqual(["outer"]);
    expect(state.tasks.map((task) => [task.name, task.interrupts.map((i) => i.value)])).toEqual([
      ["outer", ["continue?"]],
    ]);
    expect(await graph.invoke(new Command({ resume: "yes" }), config)).toEqual({ foo: "x:yes!" });
  });
});
