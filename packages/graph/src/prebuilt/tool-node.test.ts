// The prebuilt ToolNode and toolsCondition, as agents ported from "@langchain/langgraph/prebuilt"
// use them. Expectations recorded from LangGraph.js 1.7.3 + @langchain/core 1.4.0 running the
// same calls; the model is a stand-in that asks for the calls it is given, then answers.
import { randomUUID } from "node:crypto";
import { AIMessage, type BaseMessage, HumanMessage, ToolMessage } from "@langchain/core/messages";
import type { ToolCall } from "@langchain/core/messages/tool";
import type { RunnableConfig } from "@langchain/core/runnables";
import { tool } from "@langchain/core/tools";
import { describe, expect, it } from "vitest";
import * as z from "zod";
import {
  Command,
  END,
  InvalidInputError,
  interrupt,
  MemorySaver,
  MessagesAnnotation,
  START,
  StateGraph,
} from "../index.ts";
import { ToolNode, toolsCondition } from "./index.ts";

type Call = { name: string; args: Record<string, unknown>; id: string };

const ask = (...calls: Call[]) =>
  new AIMessage({ content: "", tool_calls: calls.map((call) => ({ ...call, type: "tool_call" as const })) });

const add = tool(({ a, b }) => `${a + b}`, {
  name: "add",
  description: "Add two numbers",
  schema: z.object({ a: z.number(), b: z.number() }),
});

const fail = tool(
  (): string => {
    throw new Error("boom");
  },
  { name: "fail", description: "Always fails", schema: z.object({}) },
);

/** The messages as a reader compares them: type, content, and a tool message's call, name and status. */
function shown(messages: readonly BaseMessage[]) {
  return messages.map((message) =>
    message instanceof ToolMessage
      ? [message.getType(), message.content, message.tool_call_id, message.name, message.status]
      : [message.getType(), message.content],
  );
}

/** An agent whose model asks for `turns` in order, then answers with the last tool's result. */
function agent(toolNode: ToolNode, turns: AIMessage[]) {
  let asked = 0;
  const model = (state: typeof MessagesAnnotation.State) => {
    const next = turns[asked++];
    return { messages: [next ?? new AIMessage(`done: ${state.messages.at(-1)?.content}`)] };
  };
  return new StateGraph(MessagesAnnotation)
    .addNode("agent", model)
    .addNode("tools", toolNode)
    .addEdge(START, "agent")
    .addConditionalEdges("agent", toolsCondition, ["tools", END])
    .addEdge("tools", "agent")
    .compile({ checkpointer: new MemorySaver() });
}

const thread = () => ({ configurable: { thread_id: randomUUID() } });

describe("ToolNode: invoked on its own", () => {
  it("answers each call of the last AI message with a ToolMessage; a list input gets a list", async () => {
    const node = new ToolNode([add]);
    const message = ask({ name: "add", args: { a: 1, b: 2 }, id: "c1" });
    const update = await node.invoke({ messages: [new HumanMessage("1+2?"), message] });
    expect(shown(update.messages)).toEqual([["tool", "3", "c1", "add", "success"]]);
    const list = await node.invoke([message]);
    expect(Array.isArray(list)).toBe(true);
    expect(shown(list)).toEqual([["tool", "3", "c1", "add", "success"]]);
  });

  it("runs the calls in parallel and answers in the calls' order", async () => {
    const events: string[] = [];
    const slow = tool(
      async () => {
        events.push("slow start");
        await new Promise((resolve) => setTimeout(resolve, 20));
        events.push("slow end");
        return "slow";
      },
      { name: "slow", description: "slow", schema: z.object({}) },
    );
    const quick = tool(
      () => {
        events.push("quick");
        return "quick";
      },
      { name: "quick", description: "quick", schema: z.object({}) },
    );
    const update = await new ToolNode([slow, quick]).invoke({
      messages: [ask({ name: "slow", args: {}, id: "s" }, { name: "quick", args: {}, id: "q" })],
    });
    expect(events).toEqual(["slow start", "quick", "slow end"]);
    expect(shown(update.messages).map((row: unknown[]) => row[1])).toEqual(["slow", "quick"]);
  });

  it("skips calls a ToolMessage already answers, looking back past tool messages for the AI message", async () => {
    const message = ask(
      { name: "add", args: { a: 1, b: 1 }, id: "a" },
      { name: "add", args: { a: 2, b: 2 }, id: "b" },
    );
    const answered = new ToolMessage({ content: "2", tool_call_id: "a", name: "add" });
    const update = await new ToolNode([add]).invoke({ messages: [message, answered] });
    expect(shown(update.messages)).toEqual([["tool", "4", "b", "add", "success"]]);
  });

  it("a tool's error, or a call to a tool it does not have, is an error ToolMessage the model can fix", async () => {
    const update = await new ToolNode([add, fail]).invoke({
      messages: [ask({ name: "fail", args: {}, id: "f" }, { name: "search", args: {}, id: "x" })],
    });
    expect(shown(update.messages)).toEqual([
      ["tool", "Error: boom\n Please fix your mistakes.", "f", "fail", "error"],
      ["tool", 'Error: Tool "search" not found.\n Please fix your mistakes.', "x", "search", "error"],
    ]);
  });

  it("arguments the tool's schema refuses are an error ToolMessage naming the mismatch", async () => {
    const update = await new ToolNode([add]).invoke({
      messages: [ask({ name: "add", args: { a: "one", b: 2 }, id: "c" })],
    });
    const [answer] = update.messages as ToolMessage[];
    expect(answer?.status).toBe("error");
    expect(String(answer?.content)).toMatch(
      /^Error: Received tool input did not match expected schema[\s\S]*expected number, received string[\s\S]*\n Please fix your mistakes\.$/,
    );
  });

  it("with handleToolErrors: false a tool's error fails the node", async () => {
    const node = new ToolNode([fail], { handleToolErrors: false });
    await expect(node.invoke({ messages: [ask({ name: "fail", args: {}, id: "f" })] })).rejects.toThrow(
      "boom",
    );
  });

  it("refuses input that is not messages, or messages with no AI message, with a typed error", async () => {
    const node = new ToolNode([add]);
    await expect(node.invoke({ foo: 1 })).rejects.toThrow(InvalidInputError);
    await expect(node.invoke({ foo: 1 })).rejects.toThrow(/only accepts BaseMessage\[\]/);
    await expect(node.invoke({ messages: [new HumanMessage("hi")] })).rejects.toThrow(
      /only accepts AIMessages/,
    );
  });

  it("a Send's single call (lg_tool_call) runs with the rest of the Send's state", async () => {
    const seen: unknown[] = [];
    const echo = tool(
      (_args, config) => {
        seen.push((config as { state?: unknown }).state);
        return "ok";
      },
      { name: "echo", description: "echo", schema: z.object({}) },
    );
    const update = await new ToolNode([echo]).invoke({
      lg_tool_call: { name: "echo", args: {}, id: "e" },
      messages: [],
    });
    expect(shown(update.messages)).toEqual([["tool", "ok", "e", "echo", "success"]]);
    expect(seen).toEqual([{ messages: [] }]);
  });

  it("a subclass may override run and runTool, as LangGraph's protected methods", async () => {
    class AuditedToolNode extends ToolNode {
      readonly audit: string[] = [];
      protected override async run(input: unknown, config: RunnableConfig) {
        this.audit.push("run");
        return super.run(input, config);
      }
      protected override async runTool(call: ToolCall, config: RunnableConfig, state: unknown) {
        this.audit.push(`call ${call.name}`);
        const answer = await super.runTool(call, config, state);
        return answer instanceof ToolMessage
          ? new ToolMessage({ ...answer, content: `[audited] ${answer.content}` })
          : answer;
      }
    }
    const node = new AuditedToolNode([add]);
    const update = await node.invoke({ messages: [ask({ name: "add", args: { a: 2, b: 3 }, id: "c" })] });
    expect(shown(update.messages)).toEqual([["tool", "[audited] 5", "c", "add", "success"]]);
    expect(node.audit).toEqual(["run", "call add"]);
  });

  it("has a name, its tools and error handling on by default; options set them", () => {
    const node = new ToolNode([add]);
    expect([node.name, node.tools.map((t) => t.name), node.handleToolErrors]).toEqual([
      "tools",
      ["add"],
      true,
    ]);
    const named = new ToolNode([add], { name: "my_tools", handleToolErrors: false });
    expect([named.name, named.handleToolErrors]).toEqual(["my_tools", false]);
  });
});

describe("toolsCondition", () => {
  it('routes to "tools" while the last message asks for tools, else to END', () => {
    const asking = ask({ name: "add", args: {}, id: "c" });
    expect(toolsCondition({ messages: [asking] })).toBe("tools");
    expect(toolsCondition([asking])).toBe("tools");
    expect(toolsCondition({ messages: [new AIMessage("answer")] })).toBe(END);
    expect(toolsCondition({ messages: [new HumanMessage("hi")] })).toBe(END);
  });
});

describe("ToolNode in an agent's graph", () => {
  it("loops agent → tools → agent until the model answers", async () => {
    const graph = agent(new ToolNode([add]), [ask({ name: "add", args: { a: 3, b: 4 }, id: "c1" })]);
    const result = await graph.invoke({ messages: [new HumanMessage("3+4?")] }, thread());
    expect(shown(result.messages)).toEqual([
      ["human", "3+4?"],
      ["ai", ""],
      ["tool", "7", "c1", "add", "success"],
      ["ai", "done: 7"],
    ]);
  });

  it("a tool is called with the node's config, the call's id and the graph's state", async () => {
    const seen: Record<string, unknown>[] = [];
    const probe = tool(
      (_args, config) => {
        const { toolCallId, state, metadata, tags } = config as Record<string, any>;
        seen.push({ toolCallId, messages: state.messages.length, node: metadata.langgraph_node, tags });
        return "seen";
      },
      { name: "probe", description: "probe", schema: z.object({}) },
    );
    const graph = agent(new ToolNode([probe], { tags: ["tool-tag"] }), [
      ask({ name: "probe", args: {}, id: "p" }),
    ]);
    await graph.invoke({ messages: [new HumanMessage("go")] }, { ...thread(), tags: ["caller"] });
    expect(seen).toEqual([
      { toolCallId: "p", messages: 2, node: "tools", tags: expect.arrayContaining(["caller", "tool-tag"]) },
    ]);
  });

  it("a tool that calls interrupt() pauses the graph; the resume runs it again with the answer", async () => {
    let bodies = 0;
    const book = tool(
      ({ flight }) => {
        bodies++;
        const answer = interrupt<{ action: string; flight: string }, string>({ action: "book", flight });
        return answer === "approve" ? `booked ${flight}` : `not booked: ${answer}`;
      },
      { name: "book", description: "Book a flight", schema: z.object({ flight: z.string() }) },
    );
    const graph = agent(new ToolNode([book]), [ask({ name: "book", args: { flight: "LH400" }, id: "b1" })]);
    const config = thread();
    const paused = await graph.invoke({ messages: [new HumanMessage("book LH400")] }, config);
    expect(paused.__interrupt__?.map((i) => i.value)).toEqual([{ action: "book", flight: "LH400" }]);
    expect((await graph.getState(config)).next).toEqual(["tools"]);
    const done = await graph.invoke(new Command({ resume: "approve" }), config);
    expect(shown(done.messages).slice(2)).toEqual([
      ["tool", "booked LH400", "b1", "book", "success"],
      ["ai", "done: booked LH400"],
    ]);
    expect(bodies).toBe(2);
  });

  it("two calls that each ask: the first question surfaces, its answer lets the second ask, then both finish", async () => {
    const runs: string[] = [];
    const book = tool(
      ({ flight }) => {
        runs.push(flight);
        return `${flight}: ${interrupt<string, string>(`book ${flight}?`)}`;
      },
      { name: "book", description: "Book a flight", schema: z.object({ flight: z.string() }) },
    );
    const twoBookings = ask(
      { name: "book", args: { flight: "LH400" }, id: "b1" },
      { name: "book", args: { flight: "BA117" }, id: "b2" },
    );
    const graph = agent(new ToolNode([book]), [twoBookings]);
    const config = thread();
    const first = await graph.invoke({ messages: [new HumanMessage("book both")] }, config);
    expect(first.__interrupt__?.map((i) => i.value)).toEqual(["book LH400?"]);
    const second = await graph.invoke(new Command({ resume: "yes" }), config);
    expect(second.__interrupt__?.map((i) => i.value)).toEqual(["book BA117?"]);
    expect(second.messages).toHaveLength(2);
    const done = await graph.invoke(new Command({ resume: "no" }), config);
    expect(shown(done.messages).slice(2, 4)).toEqual([
      ["tool", "LH400: yes", "b1", "book", "success"],
      ["tool", "BA117: no", "b2", "book", "success"],
    ]);
    // Each resume runs the node again from the top, as LangGraph's: both bodies, three times.
    expect(runs.toSorted()).toEqual(["BA117", "BA117", "BA117", "LH400", "LH400", "LH400"]);
  });

  it("a tool returning a Command updates the state and routes; the other calls' messages are kept", async () => {
    const State = MessagesAnnotation;
    const handoff = tool(
      (_args, config) =>
        new Command({
          update: {
            messages: [new ToolMessage({ content: "handed off", tool_call_id: (config as any).toolCall.id })],
          },
          goto: "human",
        }),
      { name: "handoff", description: "handoff", schema: z.object({}) },
    );
    const graph = new StateGraph(State)
      .addNode("agent", () => ({
        messages: [
          ask({ name: "handoff", args: {}, id: "h" }, { name: "add", args: { a: 1, b: 1 }, id: "a" }),
        ],
      }))
      .addNode("tools", new ToolNode([handoff, add]), { ends: ["human"] })
      .addNode("human", () => ({ messages: [new AIMessage("a person takes over")] }))
      .addEdge(START, "agent")
      .addEdge("agent", "tools")
      .compile();
    const result = await graph.invoke({ messages: [new HumanMessage("help")] });
    expect(shown(result.messages).slice(2)).toEqual([
      ["tool", "handed off", "h", undefined, undefined],
      ["tool", "2", "a", "add", "success"],
      ["ai", "a person takes over"],
    ]);
  });
});

describe("ToolNode: what is not the model's to fix", () => {
  it("an answer the interrupt's own check refuses fails the run, as in any node, instead of reaching the model", async () => {
    const book = tool(
      () => {
        const code = interrupt("confirmation code?", {
          schema: z.string().refine((text) => text.startsWith("OK-"), "a code starts with OK-"),
        });
        return `booked with ${code}`;
      },
      { name: "book", description: "Book", schema: z.object({}) },
    );
    const graph = agent(new ToolNode([book]), [ask({ name: "book", args: {}, id: "b" })]);
    const config = thread();
    await graph.invoke({ messages: [new HumanMessage("book")] }, config);
    await expect(graph.invoke(new Command({ resume: "nope" }), config)).rejects.toMatchObject({
      code: "INVALID_RESUME",
    });
    const state = await graph.getState(config);
    expect(state.next).toEqual(["tools"]);
    expect(shown(state.values.messages)).toEqual([
      ["human", "book"],
      ["ai", ""],
    ]);
  });

  it("a run cancelled while a tool runs stops there: no error message for the model is stored", async () => {
    const controller = new AbortController();
    const slow = tool(
      async () => {
        controller.abort();
        await new Promise((resolve) => setTimeout(resolve, 20));
        return "done";
      },
      { name: "slow", description: "Slow", schema: z.object({}) },
    );
    const graph = agent(new ToolNode([slow]), [ask({ name: "slow", args: {}, id: "s" })]);
    const config = thread();
    const run = graph.invoke(
      { messages: [new HumanMessage("go")] },
      { ...config, signal: controller.signal },
    );
    // The engine's own abort, or the tool's (LangChain races a tool with the signal).
    await expect(run).rejects.toSatisfy(
      (error: { code?: string; name?: string }) => error.code === "ABORTED" || error.name === "AbortError",
    );
    const state = await graph.getState(config);
    expect(state.next).toEqual(["tools"]);
    expect(shown(state.values.messages)).toEqual([
      ["human", "go"],
      ["ai", ""],
    ]);
  });
});
