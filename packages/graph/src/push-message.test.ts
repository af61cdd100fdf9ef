// pushMessage, as LangGraph's: a node sends a message it made to the "messages" stream before it
// returns, and the message is written to the state's messages with the node's other writes.
import { AIMessage, type BaseMessage } from "@langchain/core/messages";
import { describe, expect, it } from "vitest";
import {
  Annotation,
  Command,
  entrypoint,
  interrupt,
  MemorySaver,
  MessagesAnnotation,
  messagesStateReducer,
  pushMessage,
  START,
  StateGraph,
  task,
} from "./index.ts";

type Chunk = [string, unknown];

async function chunks(
  graph: { stream: (...args: never[]) => Promise<AsyncIterable<unknown>> },
  input: unknown,
) {
  const seen: Chunk[] = [];
  const stream = await graph.stream(...([input, { streamMode: ["messages", "updates"] }] as never[]));
  for await (const chunk of stream) seen.push(chunk as Chunk);
  return seen;
}

describe("pushMessage", () => {
  it("streams the message before its node returns, and writes it to messages with the node's writes", async () => {
    let heard: () => void = () => {};
    const streamed = new Promise<void>((resolve) => {
      heard = resolve;
    });
    const State = Annotation.Root({ ...MessagesAnnotation.spec, note: Annotation<string> });
    const graph = new StateGraph(State)
      .addNode("answer", async () => {
        pushMessage(new AIMessage({ content: "working on it", id: "progress" }));
        // The node goes on only once the reader has the message (else it fails after 2 s).
        const late = new Promise((_, reject) =>
          setTimeout(() => reject(new Error("not streamed yet")), 2_000),
        );
        await Promise.race([streamed, late]);
        return { note: "done" };
      })
      .addEdge(START, "answer")
      .compile();
    const input = { messages: [{ role: "user", content: "hi", id: "q" }] };
    const messageChunks: Chunk[] = [];
    for await (const chunk of await graph.stream(input, { streamMode: ["messages", "updates"] })) {
      if (chunk[0] !== "messages") continue;
      messageChunks.push(chunk as Chunk);
      heard();
    }
    expect(messageChunks).toHaveLength(1);
    const [message, meta] = (messageChunks[0] as Chunk)[1] as [BaseMessage, Record<string, unknown>];
    expect([message.id, message.content, meta.langgraph_node]).toEqual([
      "progress",
      "working on it",
      "answer",
    ]);
    const result = await graph.invoke({ ...input });
    expect(result.messages.map((m) => m.id)).toEqual(["q", "progress"]);
    expect(result.note).toBe("done");
  });

  it("keeps one message when the node also returns it, streamed once", async () => {
    const graph = new StateGraph(MessagesAnnotation)
      .addNode("answer", () => {
        const pushed = pushMessage({ role: "assistant", content: "draft", id: "a1" });
        return { messages: [new AIMessage({ content: "final", id: pushed.id as string })] };
      })
      .addEdge(START, "answer")
      .compile();
    const seen = await chunks(graph, { messages: [] });
    expect(seen.filter(([mode]) => mode === "messages")).toHaveLength(1);
    const result = await graph.invoke({ messages: [] });
    expect(result.messages.map((m) => [m.id, m.content])).toEqual([["a1", "final"]]);
  });

  it("writes to another messages key with stateKey, and only streams with stateKey null", async () => {
    const State = Annotation.Root({
      ...MessagesAnnotation.spec,
      log: Annotation<BaseMessage[]>({ reducer: messagesStateReducer, default: () => [] }),
    });
    const graph = new StateGraph(State)
      .addNode("n", () => {
        pushMessage({ role: "assistant", content: "to log", id: "l1" }, undefined, { stateKey: "log" });
        pushMessage({ role: "assistant", content: "shown only", id: "s1" }, undefined, { stateKey: null });
        return {};
      })
      .addEdge(START, "n")
      .compile();
    const seen = await chunks(graph, { messages: [] });
    expect(seen.filter(([mode]) => mode === "messages")).toHaveLength(2);
    const result = await graph.invoke({ messages: [] });
    expect(result.log.map((m) => m.id)).toEqual(["l1"]);
    expect(result.messages).toEqual([]);
  });

  it("pushes again when its node runs again after a pause: the message is in state once", async () => {
    const graph = new StateGraph(MessagesAnnotation)
      .addNode("ask", () => {
        pushMessage({ role: "assistant", content: "I need your approval", id: "ask-1" });
        const answer = interrupt("approve?");
        return { messages: [{ role: "assistant", content: `you said ${answer}`, id: "after" }] };
      })
      .addEdge(START, "ask")
      .compile({ checkpointer: new MemorySaver() });
    const config = { configurable: { thread_id: "t" } };
    const paused = await graph.invoke({ messages: [] }, config);
    expect(paused.messages).toEqual([]); // a paused node writes nothing
    const done = await graph.invoke(new Command({ resume: "yes" }), config);
    expect(done.messages.map((m) => m.id)).toEqual(["ask-1", "after"]);
  });

  it("refuses a message without an id, a key the state lacks, a call outside a node and in an entrypoint", async () => {
    const run = (push: () => unknown) =>
      new StateGraph(MessagesAnnotation)
        .addNode("n", () => {
          push();
          return {};
        })
        .addEdge(START, "n")
        .compile()
        .invoke({ messages: [] });
    await expect(run(() => pushMessage({ role: "assistant", content: "x" }))).rejects.toMatchObject({
      code: "INVALID_UPDATE",
      message: expect.stringContaining("id"),
    });
    await expect(
      run(() => pushMessage({ role: "assistant", content: "x", id: "1" }, undefined, { stateKey: "nope" })),
    ).rejects.toMatchObject({ code: "INVALID_UPDATE", message: expect.stringContaining('"nope"') });
    expect(() => pushMessage({ role: "assistant", content: "x", id: "1" })).toThrow(/pushMessage/);
    const workflow = entrypoint({ name: "wf", checkpointer: new MemorySaver() }, async () => {
      pushMessage({ role: "assistant", content: "x", id: "1" }, { stateKey: null });
      return "done";
    });
    await expect(workflow.invoke("go", { configurable: { thread_id: "w" } })).rejects.toMatchObject({
      code: "INVALID_UPDATE",
    });
  });

  it("takes LangGraph.js's options with the config (pushMessage(message, { ...config, stateKey }))", async () => {
    const State = Annotation.Root({
      ...MessagesAnnotation.spec,
      log: Annotation<BaseMessage[]>({ reducer: messagesStateReducer, default: () => [] }),
    });
    const graph = new StateGraph(State)
      .addNode("n", (_state, config) => {
        pushMessage({ role: "assistant", content: "to log", id: "l1" }, { ...config, stateKey: "log" });
        pushMessage({ role: "assistant", content: "shown", id: "s1" }, { stateKey: null });
        return {};
      })
      .addEdge(START, "n")
      .compile();
    const result = await graph.invoke({ messages: [] });
    expect(result.log.map((m) => m.id)).toEqual(["l1"]);
    expect(result.messages).toEqual([]);
  });

  it("writes only what the attempt that succeeded pushed: not a failed attempt's, not one pushed after its node returned", async () => {
    let attempts = 0;
    const graph = new StateGraph(MessagesAnnotation)
      .addNode(
        "n",
        async () => {
          attempts += 1;
          if (attempts === 1) {
            setTimeout(() => pushMessage({ role: "assistant", content: "late", id: "late1" }), 20);
            throw new Error("flaky");
          }
          await new Promise((resolve) => setTimeout(resolve, 60));
          setTimeout(() => pushMessage({ role: "assistant", content: "after", id: "after1" }), 0);
          return { messages: [{ role: "assistant", content: "ok", id: "ok" }] };
        },
        { retryPolicy: { maxAttempts: 2, initialInterval: 1, retryOn: () => true } },
      )
      .addNode("next", async () => {
        await new Promise((resolve) => setTimeout(resolve, 30));
        return {};
      })
      .addEdge(START, "n")
      .addEdge("n", "next")
      .compile();
    const result = await graph.invoke({ messages: [] });
    expect(result.messages.map((m) => m.id)).toEqual(["ok"]);
  });

  it("shows a pushed message in the node's \"updates\" with what it returns, as LangGraph's", async () => {
    const graph = new StateGraph(MessagesAnnotation)
      .addNode("n", () => {
        pushMessage({ role: "assistant", content: "p", id: "p" });
        return { messages: [{ role: "assistant", content: "r", id: "r" }] };
      })
      .addEdge(START, "n")
      .compile();
    const updates: unknown[] = [];
    for await (const chunk of await graph.stream({ messages: [] }, { streamMode: "updates" }))
      updates.push(chunk);
    const shown = (updates[0] as { n: { messages: { id: string } | { id: string }[] }[] }).n;
    expect(shown.map((one) => [one.messages].flat().map((m) => m.id))).toEqual([["p"], ["r"]]);
  });

  it("is refused in a task() call a node makes: a call's result is what it returns", async () => {
    const push = task("push", async () => {
      pushMessage({ role: "assistant", content: "x", id: "t1" });
      return 1;
    });
    const graph = new StateGraph(MessagesAnnotation)
      .addNode("n", async () => ({
        messages: [{ role: "assistant", content: String(await push()), id: "n" }],
      }))
      .addEdge(START, "n")
      .compile();
    await expect(graph.invoke({ messages: [] })).rejects.toMatchObject({ code: "INVALID_UPDATE" });
  });
});
