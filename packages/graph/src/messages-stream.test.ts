// streamMode "messages" as LangGraph.js 1.7.3 streams it. The expectations were recorded from
// LangGraph.js 1.7.3 with @langchain/core 1.4.0 running the same graphs (2026-12-06); where
// Layover differs on purpose (step numbers one lower, an extra langgraph_task_id), the test says so.
import { AIMessage, AIMessageChunk, type BaseMessage, ToolMessage } from "@langchain/core/messages";
import { RunnableLambda } from "@langchain/core/runnables";
import { FakeChatModel, FakeListChatModel } from "@langchain/core/utils/testing";
import { describe, expect, it } from "vitest";
import { Annotation, END, MemorySaver, MessagesAnnotation, Send, START, StateGraph } from "./index.ts";

type Part = [BaseMessage, Record<string, unknown>];

async function collect(stream: AsyncIterable<unknown>): Promise<unknown[]> {
  const parts: unknown[] = [];
  for await (const part of stream) parts.push(part);
  return parts;
}

/** Each "messages" part as [class, content, id, node]; "updates" parts as ["update", node]. */
function summary(parts: unknown[]) {
  return parts.map((part) => {
    const [mode, payload] = part as [string, unknown];
    if (mode === "updates") return ["update", Object.keys(payload as object)[0]];
    const [message, meta] = payload as Part;
    return [message.constructor.name, message.content, message.id, meta.langgraph_node];
  });
}

const RUN_ID = /^run-[0-9a-f-]{36}$/;

describe('stream(…, { streamMode: "messages" })', () => {
  it("streams a chat model's tokens with the node's metadata, whether the node passes its config or not", async () => {
    const model = new FakeListChatModel({ responses: ["Hi there", "Bye"] });
    const graph = new StateGraph(MessagesAnnotation)
      .addNode("chat", async (state) => ({ messages: [await model.invoke(state.messages)] }))
      .addNode("withConfig", async (state, config) => ({
        messages: [await model.invoke(state.messages, config as never)],
      }))
      .addEdge(START, "chat")
      .addEdge("chat", "withConfig")
      .addEdge("withConfig", END)
      .compile({ checkpointer: new MemorySaver() });
    const parts = (await collect(
      await graph.stream(
        { messages: [{ role: "user", content: "hey" }] },
        { streamMode: "messages", configurable: { thread_id: "t" } },
      ),
    )) as Part[];

    expect(parts.map(([m]) => m.content).join("|")).toBe("H|i| |t|h|e|r|e|B|y|e");
    expect(parts.every(([m]) => m instanceof AIMessageChunk)).toBe(true);
    // One id per model call, as LangGraph's: the call's run id.
    const ids = [...new Set(parts.map(([m]) => m.id))];
    expect(ids).toHaveLength(2);
    expect(ids.every((id) => RUN_ID.test(String(id)))).toBe(true);
    const [, meta] = parts[0] as Part;
    const [, last] = parts.at(-1) as Part;
    expect(meta).toEqual({
      tags: [],
      thread_id: "t",
      langgraph_node: "chat",
      langgraph_step: 0, // LangGraph: 1 (its step numbers are one higher, see the README)
      langgraph_task_id: expect.any(String), // Layover's own
      langgraph_triggers: ["branch:to:chat"],
      langgraph_path: ["__pregel_pull", "chat"],
      langgraph_checkpoint_ns: `chat:${meta.langgraph_task_id}`,
      checkpoint_ns: `chat:${meta.langgraph_task_id}`,
      ls_integration: "langchain_chat_model",
      ls_model_type: "chat",
      ls_provider: "FakeListChatModel",
      versions: { "@langchain/core": expect.any(String) },
    });
    expect(last).toMatchObject({ langgraph_node: "withConfig", langgraph_step: 1 });
    // The model's answer the nodes return is not sent again, nor is the input.
    const state = await graph.getState({ configurable: { thread_id: "t" } });
    expect(state.values.messages.map((m: BaseMessage) => m.content)).toEqual(["hey", "Hi there", "Bye"]);
  });

  it("sends what nodes return that was not streamed, before each node's update, and skips subgraphs' models", async () => {
    const model = new FakeListChatModel({ responses: ["ab", "cd", "ef"] });
    const plain = new FakeChatModel({});
    const sub = new StateGraph(MessagesAnnotation)
      .addNode("inner", async (s) => ({ messages: [await model.invoke(s.messages)] }))
      .addEdge(START, "inner")
      .compile();
    const graph = new StateGraph(MessagesAnnotation)
      .addNode("chat", async (s) => ({ messages: [await model.invoke(s.messages)] }))
      .addNode("plain", async (s) => ({ messages: [await plain.invoke(s.messages)] }))
      .addNode("quiet", async (s) => ({
        messages: [await model.withConfig({ tags: ["nostream"] }).invoke(s.messages)],
      }))
      .addNode("tool", async () => ({
        messages: [new ToolMessage({ content: "42", tool_call_id: "call1" }), new AIMessage("x")],
      }))
      .addNode("subcall", async (s) => ({ messages: (await sub.invoke(s)).messages.slice(-1) }))
      .addNode("subnode", sub)
      .addEdge(START, "chat")
      .addEdge("chat", "plain")
      .addEdge("plain", "quiet")
      .addEdge("quiet", "tool")
      .addEdge("tool", "subcall")
      .addEdge("subcall", "subnode")
      .addEdge("subnode", END)
      .compile({ checkpointer: new MemorySaver() });
    const parts = await collect(
      await graph.stream(
        { messages: [{ role: "user", content: "hey", id: "u1" }] },
        { streamMode: ["messages", "updates"], configurable: { thread_id: "t" } },
      ),
    );

    const rows = summary(parts);
    expect(rows.map(([kind, content, , node]) => [kind, content, node])).toEqual([
      ["AIMessageChunk", "a", "chat"],
      ["AIMessageChunk", "b", "chat"],
      ["update", "chat", undefined],
      ["AIMessageChunk", "hey\nab", "plain"],
      ["update", "plain", undefined],
      ["AIMessageChunk", "cd", "quiet"], // "nostream": no tokens, the node's answer once
      ["update", "quiet", undefined],
      ["ToolMessage", "42", "tool"],
      ["AIMessage", "x", "tool"],
      ["update", "tool", undefined],
      ["AIMessage", "ef", "subcall"], // the subgraph's model is not heard; what the node returns is
      ["update", "subcall", undefined],
      ["AIMessage", "ab", "subnode"],
      ["update", "subnode", undefined],
    ]);
    // Messages a node returns without ids get LangGraph's: by tool call, else by position.
    expect(rows[7]?.[2]).toMatch(/^run-.+-tool-call1$/);
    expect(rows[8]?.[2]).toMatch(/^run-.+-out-1$/);
    const quiet = (parts[5] as [string, Part])[1][1];
    expect(quiet).toMatchObject({ tags: ["graph:step:2"], name: "quiet", ls_integration: "langgraph" });
  });

  it("with subgraphs: true, sends a subgraph's model's tokens under its namespace, and them only", async () => {
    for (const shape of ["node", "call"] as const) {
      const model = new FakeListChatModel({ responses: ["cd"] });
      const sub = new StateGraph(MessagesAnnotation)
        .addNode("inner", async (s, config) => ({
          messages: [await model.invoke(s.messages, config as never)],
        }))
        .addEdge(START, "inner")
        .compile();
      const graph = new StateGraph(MessagesAnnotation)
        .addNode("sub", shape === "node" ? sub : (s, config) => sub.invoke(s, config))
        .addEdge(START, "sub")
        .compile();
      const parts = await collect(
        await graph.stream(
          { messages: [{ role: "user", content: "q", id: "h" }] },
          { streamMode: "messages", subgraphs: true },
        ),
      );
      // The subgraph node's answer is the message its model streamed: LangGraph sends it once, as tokens.
      expect(
        parts.map((part) => {
          const [ns, [message, meta]] = part as [string[], Part];
          return [ns.map((n) => n.split(":")[0]), message.content, meta.langgraph_node];
        }),
        shape,
      ).toEqual([
        [["sub"], "c", "inner"],
        [["sub"], "d", "inner"],
      ]);
    }
  });

  it("hears a model called without the node's config that carries tags or metadata of its own, with the stream's tags", async () => {
    // LangGraph.js 1.7.3: a model bound withConfig({ tags }) or ({ metadata }), or called with a
    // partial config, inherits the node's tags and metadata from the callbacks in LangChain's context.
    const model = new FakeListChatModel({ responses: ["ab"] });
    const graph = new StateGraph(MessagesAnnotation)
      .addNode("tagged", async (s) => ({
        messages: [await model.withConfig({ tags: ["joke"] }).invoke(s.messages)],
      }))
      .addNode("labelled", async (s) => ({
        messages: [await model.withConfig({ metadata: { kind: "poem" } }).invoke(s.messages)],
      }))
      .addNode("partial", async (s) => ({ messages: [await model.invoke(s.messages, { tags: ["t1"] })] }))
      .addEdge(START, "tagged")
      .addEdge("tagged", "labelled")
      .addEdge("labelled", "partial")
      .addEdge("partial", END)
      .compile();
    const parts = (await collect(
      await graph.stream(
        { messages: [{ role: "user", content: "hey" }] },
        { streamMode: "messages", tags: ["outer"] },
      ),
    )) as Part[];
    expect(parts.map(([m, meta]) => [m.content, meta.langgraph_node, meta.tags, meta.kind])).toEqual([
      ["a", "tagged", ["outer", "joke"], undefined],
      ["b", "tagged", ["outer", "joke"], undefined],
      ["a", "labelled", ["outer"], "poem"],
      ["b", "labelled", ["outer"], "poem"],
      ["a", "partial", ["outer", "t1"], undefined],
      ["b", "partial", ["outer", "t1"], undefined],
    ]);
  });

  it("names a Send task's trigger __pregel_push, in its metadata and in \"tasks\", as LangGraph's", async () => {
    const State = Annotation.Root({
      seen: Annotation<unknown[]>({ reducer: (a, b) => a.concat(b), default: () => [] }),
    });
    const graph = new StateGraph(State)
      .addNode("w", (_s, config) => ({ seen: [config.metadata?.langgraph_triggers] }))
      .addConditionalEdges(START, () => [new Send("w", {})])
      .addEdge("w", END)
      .compile();
    const parts = await collect(await graph.stream({ seen: [] }, { streamMode: ["tasks", "updates"] }));
    expect(parts[0]).toEqual(["tasks", expect.objectContaining({ name: "w", triggers: ["__pregel_push"] })]);
    expect(parts[1]).toEqual(["updates", { w: { seen: [["__pregel_push"]] } }]);
  });

  it("passes the caller's metadata on to nodes and to the messages' metadata, as LangGraph's", async () => {
    const model = new FakeListChatModel({ responses: ["ab"] });
    const seen: unknown[] = [];
    const graph = new StateGraph(MessagesAnnotation)
      .addNode("chat", async (s, config) => {
        seen.push(config.metadata?.run_kind);
        return { messages: [await model.invoke(s.messages)] };
      })
      .addEdge(START, "chat")
      .compile();
    const parts = (await collect(
      await graph.stream(
        { messages: [{ role: "user", content: "hey" }] },
        { streamMode: "messages", metadata: { run_kind: "eval" } },
      ),
    )) as Part[];
    expect(parts.map(([m, meta]) => [m.content, meta.run_kind, meta.langgraph_node])).toEqual([
      ["a", "eval", "chat"],
      ["b", "eval", "chat"],
    ]);
    expect(seen).toEqual(["eval"]);
  });

  it("runs a LangChain runnable as a node (RunnableLambda, a piped chain) with the node's config, its model heard", async () => {
    const model = new FakeListChatModel({ responses: ["ok"] });
    const reply = RunnableLambda.from(async (s: { messages: BaseMessage[] }) => ({
      messages: [await model.invoke(s.messages)],
    }));
    const tagged = RunnableLambda.from((s: { messages: BaseMessage[] }) => s.messages.length).pipe(
      RunnableLambda.from((count: number) => ({
        messages: [new AIMessage({ content: `${count}`, id: "n" })],
      })),
    );
    const graph = new StateGraph(MessagesAnnotation)
      .addNode("reply", reply)
      .addNode("count", tagged)
      .addEdge(START, "reply")
      .addEdge("reply", "count")
      .compile();
    const parts = (await collect(
      await graph.stream({ messages: [{ role: "user", content: "hi" }] }, { streamMode: "messages" }),
    )) as Part[];
    expect(parts.map(([m, meta]) => [m.content, meta.langgraph_node])).toEqual([
      ["o", "reply"],
      ["k", "reply"],
      ["2", "count"],
    ]);
    const done = await graph.invoke({ messages: [{ role: "user", content: "hi" }] });
    expect(done.messages.map((m: BaseMessage) => m.content)).toEqual(["hi", "ok", "2"]);
    expect(() => new StateGraph(MessagesAnnotation).addNode("x", { run: () => ({}) } as never)).toThrow(
      /must be a function, a compiled graph or a LangChain runnable/,
    );
  });

  it("gives nodes no callbacks when the stream does not ask for messages", async () => {
    const seen: unknown[] = [];
    const graph = new StateGraph(MessagesAnnotation)
      .addNode("a", (_s, config) => {
        seen.push(config.callbacks);
        return { messages: [new AIMessage("x")] };
      })
      .addEdge(START, "a")
      .compile();
    const parts = await collect(await graph.stream({ messages: [] }, { streamMode: ["updates", "values"] }));
    expect(parts).toHaveLength(3);
    expect(seen).toEqual([undefined]);
  });
});
