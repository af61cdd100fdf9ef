// Streaming an entrypoint: streamEvents carries its value, and a subgraph called in a task streams
// under the task's caller, as LangGraph.js's (recorded by running the same workflows).
import { randomUUID } from "node:crypto";
import { FakeListChatModel } from "@langchain/core/utils/testing";
import { describe, expect, it } from "vitest";
import {
  Annotation,
  Command,
  entrypoint,
  getWriter,
  interrupt,
  MemorySaver,
  START,
  StateGraph,
  task,
} from "../index.ts";

const thread = () => ({ configurable: { thread_id: randomUUID() } });
async function chunks(stream: Promise<AsyncIterableIterator<unknown>>): Promise<unknown[]> {
  const all: unknown[] = [];
  for await (const chunk of await stream) all.push(chunk);
  return all;
}

describe("streaming an entrypoint", () => {
  it("streamEvents ends with the entrypoint's value when it is not an object (LangGraph: on_chain_end output 10)", async () => {
    const num = entrypoint({ name: "num", checkpointer: new MemorySaver() }, async (n: number) => n * 2);
    const events: any[] = [];
    for await (const e of num.streamEvents(5, { ...thread(), version: "v2" })) events.push(e);
    expect(events.at(-1).event).toBe("on_chain_end");
    expect(events.at(-1).data.output).toBe(10); // Layover: {}
  });

  it("streamEvents of an entrypoint that returns null does not throw", async () => {
    const nothing = entrypoint(
      { name: "nothing", checkpointer: new MemorySaver() },
      async (_: number) => null,
    );
    const events: any[] = [];
    for await (const e of nothing.streamEvents(5, { ...thread(), version: "v2" })) events.push(e);
    expect(events.at(-1).data.output).toBe(null);
  });

  it("updates with subgraphs: true and a subgraph called in a task", async () => {
    const S = Annotation.Root({ n: Annotation<number> });
    const sub = new StateGraph(S)
      .addNode("inc", (s) => ({ n: s.n + 1 }))
      .addEdge(START, "inc")
      .compile();
    const callSub = task("callSub", async (n: number) => (await sub.invoke({ n })).n);
    const wf = entrypoint({ name: "wf", checkpointer: new MemorySaver() }, async (n: number) => ({
      out: await callSub(n),
    }));
    const out = (await chunks(
      wf.stream(1, { ...thread(), streamMode: "updates", subgraphs: true }),
    )) as any[];
    expect(out.length).toBe(3);
    // LangGraph (FINDINGS §9): [["wfs:<e>","callSub:<c>"], {inc}] — the call's namespace is under its caller's
    expect(out[0][0]).toEqual([expect.stringMatching(/^wf:/), expect.stringMatching(/^callSub:/)]);
    expect(out[0][1]).toEqual({ inc: { n: 2 } });
    expect(out.slice(1)).toEqual([
      [[], { callSub: 2 }],
      [[], { wf: { out: 2 } }],
    ]);
  });
  it("a task's \"custom\" chunks stream under its caller's namespace with subgraphs: true, as LangGraph's", async () => {
    const fetchIt = task("fetchIt", async (x: number) => {
      getWriter()?.({ inTask: x });
      return x + 1;
    });
    const wf = entrypoint({ name: "wf", checkpointer: new MemorySaver() }, async (x: number) => {
      getWriter()?.({ inEntrypoint: x });
      return await fetchIt(x);
    });
    const nested = (await chunks(
      wf.stream(1, { ...thread(), streamMode: "custom", subgraphs: true }),
    )) as any[];
    // LangGraph.js 1.7.3: [[[], {inEntrypoint}], [["wf:<id>"], {inTask}]]
    expect(nested).toEqual([
      [[], { inEntrypoint: 1 }],
      [[expect.stringMatching(/^wf:/)], { inTask: 1 }],
    ]);
    // Without subgraphs, both are the run's own chunks.
    expect(await chunks(wf.stream(1, { ...thread(), streamMode: "custom" }))).toEqual([
      { inEntrypoint: 1 },
      { inTask: 1 },
    ]);
  });
  it('"messages" streams the tokens of a chat model a task calls, as its node (LangGraph: langgraph_node the task)', async () => {
    const model = new FakeListChatModel({ responses: ["LHR at 9"] });
    const callModel = task("callModel", async (question: string) => model.invoke(question));
    const chat = entrypoint({ name: "chat", checkpointer: new MemorySaver() }, async (question: string) => {
      const answer = await callModel(question);
      return { answer: answer.content };
    });
    const out = (await chunks(chat.stream("when?", { ...thread(), streamMode: "messages" }))) as Array<
      [{ content: unknown }, Record<string, unknown>]
    >;
    expect(out.map(([message]) => message.content).join("")).toBe("LHR at 9");
    expect(new Set(out.map(([, meta]) => meta.langgraph_node))).toEqual(new Set(["callModel"]));
  });
  it("streamEvents ends a task's chain with its value, and gives a task whose result is given back none", async () => {
    const double = task("double", async (n: number) => n * 2);
    const wf = entrypoint({ name: "wf", checkpointer: new MemorySaver() }, async (n: number) => {
      const doubled = await double(n);
      return { doubled, ok: interrupt("ok?") };
    });
    const config = thread();
    const lines = async (input: unknown) => {
      const all: string[] = [];
      for await (const e of wf.streamEvents(input, { ...config, version: "v2" }))
        if (e.name === "double") all.push(`${e.event}:${JSON.stringify(e.data.output ?? null)}`);
      return all;
    };
    expect(await lines(1)).toEqual(["on_chain_start:null", "on_chain_end:2"]);
    // The resume runs the workflow again from the top: "double" gives back 2 without running.
    expect(await lines(new Command({ resume: true }))).toEqual([]);
  });
});
