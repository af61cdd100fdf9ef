// The task events ("tasks", "debug") and pause chunks of stream(), as LangGraph.js 1.7.3 streams
// them: each expectation below is what LangGraph.js printed for the same graph and call (ids aside).
import { describe, expect, it } from "vitest";
import { Command, END, interrupt, MemorySaver, START, StateGraph } from "./index.ts";
import { LogState as Log } from "./testing/helpers.ts";

let thread = 0;
const threadConfig = () => ({ configurable: { thread_id: `task-stream-${++thread}` } });

async function collect(stream: AsyncIterable<unknown>): Promise<unknown[]> {
  const chunks: unknown[] = [];
  try {
    for await (const chunk of stream) chunks.push(chunk);
  } catch {
    // The run's own error: the chunks before it are what is compared.
  }
  return chunks;
}

/** What a chunk says in a line: [mode, node and what of it] for task events, else the chunk. */
function line([mode, chunk]: [string, Record<string, unknown>]): unknown {
  if (mode !== "tasks") return [mode, chunk];
  return ["tasks", chunk.name, "result" in chunk ? "result" : "start"];
}

describe("task events and pauses in stream(), as LangGraph.js's", () => {
  it("a failed task's result carries its error as { message, name }, not a string", async () => {
    const graph = new StateGraph(Log)
      .addNode("bad", () => {
        throw new TypeError("kaput");
      })
      .addEdge(START, "bad")
      .compile();
    const chunks = (await collect(await graph.stream({ log: [] }, { streamMode: "tasks" }))) as Array<
      Record<string, unknown>
    >;
    expect(chunks.find((chunk) => "result" in chunk)).toMatchObject({
      name: "bad",
      result: {},
      interrupts: [],
      error: { message: "kaput", name: "TypeError" },
    });
  });

  it('each task that pauses streams its own { __interrupt__ } in "values", before its result in "tasks"', async () => {
    const graph = new StateGraph(Log)
      .addNode("s", () => ({ log: ["s"] }))
      .addNode("q1", () => ({ log: [`q1:${interrupt("one?")}`] }))
      .addNode("q2", () => ({ log: [`q2:${interrupt("two?")}`] }))
      .addEdge(START, "s")
      .addEdge("s", "q1")
      .addEdge("s", "q2")
      .compile({ checkpointer: new MemorySaver() });
    const chunks = await collect(
      await graph.stream({ log: [] }, { ...threadConfig(), streamMode: ["values", "tasks"] }),
    );
    const asked = (value: string) => ({ __interrupt__: [{ id: expect.any(String), value }] });
    expect(chunks.map((chunk) => line(chunk as [string, Record<string, unknown>]))).toEqual([
      ["values", { log: [] }],
      ["tasks", "s", "start"],
      ["tasks", "s", "result"],
      ["values", { log: ["s"] }],
      ["tasks", "q1", "start"],
      ["tasks", "q2", "start"],
      ["values", asked("one?")],
      ["tasks", "q1", "result"],
      ["values", asked("two?")],
      ["tasks", "q2", "result"],
    ]);
  });

  it("a superstep's tasks all report their start before any of its nodes runs", async () => {
    const graph = new StateGraph(Log)
      .addNode("p1", (_state, config) => {
        config.writer?.({ p: 1 });
        return { log: ["p1"] };
      })
      .addNode("p2", (_state, config) => {
        config.writer?.({ p: 2 });
        return { log: ["p2"] };
      })
      .addEdge(START, "p1")
      .addEdge(START, "p2")
      .compile();
    const chunks = await collect(await graph.stream({ log: [] }, { streamMode: ["tasks", "custom"] }));
    expect(chunks.map((chunk) => line(chunk as [string, Record<string, unknown>]))).toEqual([
      ["tasks", "p1", "start"],
      ["tasks", "p2", "start"],
      ["custom", { p: 1 }],
      ["custom", { p: 2 }],
      ["tasks", "p1", "result"],
      ["tasks", "p2", "result"],
    ]);
  });

  it("on a resume, a task that had finished beside the pause reports its start again, and no result", async () => {
    const graph = new StateGraph(Log)
      .addNode("ask", () => ({ log: [`ask:${interrupt("q?")}`] }))
      .addNode("fine", () => ({ log: ["fine"] }))
      .addNode("after", () => ({ log: ["after"] }))
      .addEdge(START, "ask")
      .addEdge(START, "fine")
      .addEdge(["ask", "fine"], "after")
      .addEdge("after", END)
      .compile({ checkpointer: new MemorySaver() });
    const config = threadConfig();
    await collect(await graph.stream({ log: [] }, config));
    const resumed = await collect(
      await graph.stream(new Command({ resume: "y" }), { ...config, streamMode: "tasks" }),
    );
    expect(resumed.map((chunk) => line(["tasks", chunk as Record<string, unknown>]))).toEqual([
      ["tasks", "ask", "start"],
      ["tasks", "fine", "start"],
      ["tasks", "ask", "result"],
      ["tasks", "after", "start"],
      ["tasks", "after", "result"],
    ]);
  });

  it("a resume's first checkpoint event lists the question it answers under its task", async () => {
    const graph = new StateGraph(Log)
      .addNode("ask", () => ({ log: [`ask:${interrupt("q?")}`] }))
      .addEdge(START, "ask")
      .compile({ checkpointer: new MemorySaver() });
    const config = threadConfig();
    await collect(await graph.stream({ log: [] }, config));
    const [first] = (await collect(
      await graph.stream(new Command({ resume: "y" }), { ...config, streamMode: "checkpoints" }),
    )) as Array<{ tasks: Array<{ name: string; interrupts: unknown[] }> }>;
    expect(first?.tasks).toEqual([
      expect.objectContaining({ name: "ask", interrupts: [{ id: expect.any(String), value: "q?" }] }),
    ]);
  });

  it("a task's start carries the run's metadata and tags, without the engine's own keys", async () => {
    const graph = new StateGraph(Log)
      .addNode("one", () => ({ log: ["one"] }))
      .addEdge(START, "one")
      .compile();
    const [start] = (await collect(
      await graph.stream({ log: [] }, { streamMode: "tasks", metadata: { user: "u1" }, tags: ["nightly"] }),
    )) as Array<Record<string, unknown>>;
    expect(start).toEqual({
      id: expect.any(String),
      name: "one",
      input: { log: [] },
      triggers: ["branch:to:one"],
      interrupts: [],
      metadata: { ls_integration: "langgraph", user: "u1", tags: ["nightly"] },
    });
  });

  it("a subgraph's task starts carry no key of the engine's own (its call's input hash)", async () => {
    const sub = new StateGraph(Log)
      .addNode("inner", () => ({ log: ["inner"] }))
      .addEdge(START, "inner")
      .compile();
    const graph = new StateGraph(Log).addNode("child", sub).addEdge(START, "child").compile();
    const chunks = (await collect(
      await graph.stream({ log: [] }, { streamMode: "tasks", subgraphs: true }),
    )) as Array<[string[], Record<string, unknown>]>;
    const inner = chunks.find(([, chunk]) => chunk.name === "inner" && "input" in chunk)?.[1];
    expect(inner?.metadata).toEqual({ ls_integration: "langgraph" });
  });

  it("a resume's streamEvents gives no chain start to a node that finished before the pause", async () => {
    const graph = new StateGraph(Log)
      .addNode("ask", () => ({ log: [`ask:${interrupt("q?")}`] }))
      .addNode("fine", () => ({ log: ["fine"] }))
      .addEdge(START, "ask")
      .addEdge(START, "fine")
      .compile({ checkpointer: new MemorySaver() });
    const config = threadConfig();
    await collect(graph.streamEvents({ log: [] }, { ...config, version: "v2" }));
    const events = (await collect(
      graph.streamEvents(new Command({ resume: "y" }), { ...config, version: "v2" }),
    )) as Array<{ event: string; name: string }>;
    // LangGraph.js 1.7.3: "fine" does not run again, and has no events.
    expect(events.filter((e) => e.name === "ask" || e.name === "fine").map((e) => [e.event, e.name])).toEqual(
      [
        ["on_chain_start", "ask"],
        ["on_chain_end", "ask"],
      ],
    );
  });

  it("a paused subgraph streams its pause, not the values its finished tasks wrote (only the root does)", async () => {
    const sub = new StateGraph(Log)
      .addNode("a", () => ({ log: [`a:${interrupt("sub?")}`] }))
      .addNode("b", () => ({ log: ["b"] }))
      .addEdge(START, "a")
      .addEdge(START, "b")
      .compile();
    const graph = new StateGraph(Log)
      .addNode("child", sub)
      .addEdge(START, "child")
      .compile({ checkpointer: new MemorySaver() });
    const chunks = (await collect(
      await graph.stream({ log: [] }, { ...threadConfig(), streamMode: "values", subgraphs: true }),
    )) as Array<[string[], Record<string, unknown>]>;
    const asked = { __interrupt__: [{ id: expect.any(String), value: "sub?" }] };
    // LangGraph.js 1.7.3 gives exactly these four.
    expect(chunks.map(([ns, chunk]) => [ns.length, chunk])).toEqual([
      [0, { log: [] }],
      [1, { log: [] }],
      [1, asked],
      [0, asked],
    ]);
  });
});
