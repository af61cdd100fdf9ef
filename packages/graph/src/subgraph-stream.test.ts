// stream(…, { subgraphs: true }): subgraphs' chunks with their namespace, as LangGraph's. The
// expected chunks were recorded from LangGraph.js 1.7.3 running the same graphs; task and
// interrupt ids are replaced by <id1>, <id2>… in order of first appearance.
import { randomUUID } from "node:crypto";
import { FakeListChatModel } from "@langchain/core/utils/testing";
import { describe, expect, it } from "vitest";
import { z } from "zod";
import {
  Command,
  END,
  getWriter,
  interrupt,
  MemorySaver,
  type NodeConfig,
  START,
  StateGraph,
} from "./index.ts";

const State = z.object({ foo: z.string() });
type S = z.infer<typeof State>;
const append = (label: string) => (state: S) => ({ foo: `${state.foo}|${label}` });

/** Chunks as JSON with ids (UUIDs, and "node:<uuid>" task parts) numbered in order of appearance. */
function normalized(chunks: unknown[]): string[] {
  const ids = new Map<string, string>();
  return chunks.map((chunk) =>
    JSON.stringify(chunk).replace(/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/g, (id) => {
      if (!ids.has(id)) ids.set(id, `<id${ids.size + 1}>`);
      return ids.get(id) as string;
    }),
  );
}

async function collect(stream: AsyncIterable<unknown>): Promise<string[]> {
  const chunks: unknown[] = [];
  for await (const chunk of stream) chunks.push(chunk);
  return normalized(chunks);
}

function subgraph(ask = false) {
  return new StateGraph(State)
    .addNode("sub_1", (state: S, config: NodeConfig) => {
      config.writer({ from: "sub_1", via: "config.writer" });
      getWriter()?.({ from: "sub_1", via: "getWriter()" });
      return {
        foo: ask ? `${state.foo}|sub_1:${interrupt<string, string>("question?")}` : `${state.foo}|sub_1`,
      };
    })
    .addNode("sub_2", append("sub_2"))
    .addEdge(START, "sub_1")
    .addEdge("sub_1", "sub_2")
    .compile();
}

function parent(child: ReturnType<typeof subgraph>, checkpointer?: MemorySaver) {
  return new StateGraph(State)
    .addNode("parent_1", (state: S, config: NodeConfig) => {
      config.writer({ from: "parent_1" });
      return { foo: `${state.foo}|p1` };
    })
    .addNode("child", child)
    .addEdge(START, "parent_1")
    .addEdge("parent_1", "child")
    .addEdge("child", END)
    .compile(checkpointer ? { checkpointer } : {});
}

describe("stream(…, { subgraphs: true })", () => {
  it('streams a subgraph\'s updates under ["node:taskId"], and [namespace, mode, chunk] for several modes', async () => {
    const graph = parent(subgraph());
    expect(
      await collect(await graph.stream({ foo: "in" }, { subgraphs: true, streamMode: "updates" })),
    ).toEqual([
      '[[],{"parent_1":{"foo":"in|p1"}}]',
      '[["child:<id1>"],{"sub_1":{"foo":"in|p1|sub_1"}}]',
      '[["child:<id1>"],{"sub_2":{"foo":"in|p1|sub_1|sub_2"}}]',
      '[[],{"child":{"foo":"in|p1|sub_1|sub_2"}}]',
    ]);
    expect(
      await collect(await graph.stream({ foo: "in" }, { subgraphs: true, streamMode: "values" })),
    ).toEqual([
      '[[],{"foo":"in"}]',
      '[[],{"foo":"in|p1"}]',
      '[["child:<id1>"],{"foo":"in|p1"}]',
      '[["child:<id1>"],{"foo":"in|p1|sub_1"}]',
      '[["child:<id1>"],{"foo":"in|p1|sub_1|sub_2"}]',
      '[[],{"foo":"in|p1|sub_1|sub_2"}]',
    ]);
    const both = await collect(
      await graph.stream({ foo: "in" }, { subgraphs: true, streamMode: ["custom", "updates"] }),
    );
    expect(both).toEqual([
      '[[],"custom",{"from":"parent_1"}]',
      '[[],"updates",{"parent_1":{"foo":"in|p1"}}]',
      '[["child:<id1>"],"custom",{"from":"sub_1","via":"config.writer"}]',
      '[["child:<id1>"],"custom",{"from":"sub_1","via":"getWriter()"}]',
      '[["child:<id1>"],"updates",{"sub_1":{"foo":"in|p1|sub_1"}}]',
      '[["child:<id1>"],"updates",{"sub_2":{"foo":"in|p1|sub_1|sub_2"}}]',
      '[[],"updates",{"child":{"foo":"in|p1|sub_1|sub_2"}}]',
    ]);
  });

  it("without subgraphs: true, a subgraph's nodes' custom chunks still stream, flat; nothing else of it does", async () => {
    const graph = parent(subgraph());
    expect(await collect(await graph.stream({ foo: "in" }, { streamMode: ["custom", "updates"] }))).toEqual([
      '["custom",{"from":"parent_1"}]',
      '["updates",{"parent_1":{"foo":"in|p1"}}]',
      '["custom",{"from":"sub_1","via":"config.writer"}]',
      '["custom",{"from":"sub_1","via":"getWriter()"}]',
      '["updates",{"child":{"foo":"in|p1|sub_1|sub_2"}}]',
    ]);
  });

  it("nests namespaces, and numbers a task's later subgraph calls as LangGraph does", async () => {
    const inner = new StateGraph(State).addNode("gc_1", append("gc_1")).addEdge(START, "gc_1").compile();
    const middle = new StateGraph(State)
      .addNode("sub_1", append("sub_1"))
      .addNode("grandchild", inner)
      .addEdge(START, "sub_1")
      .addEdge("sub_1", "grandchild")
      .compile();
    const nested = new StateGraph(State).addNode("child", middle).addEdge(START, "child").compile();
    expect(await collect(await nested.stream({ foo: "in" }, { subgraphs: true }))).toEqual([
      '[["child:<id1>"],{"sub_1":{"foo":"in|sub_1"}}]',
      '[["child:<id1>","grandchild:<id2>"],{"gc_1":{"foo":"in|sub_1|gc_1"}}]',
      '[["child:<id1>"],{"grandchild":{"foo":"in|sub_1|gc_1"}}]',
      '[[],{"child":{"foo":"in|sub_1|gc_1"}}]',
    ]);
    const twice = new StateGraph(State)
      .addNode("parent_1", async (state: S) => ({ foo: (await inner.invoke(await inner.invoke(state))).foo }))
      .addEdge(START, "parent_1")
      .compile();
    expect(await collect(await twice.stream({ foo: "in" }, { subgraphs: true }))).toEqual([
      '[["parent_1:<id1>"],{"gc_1":{"foo":"in|gc_1"}}]',
      '[["parent_1:<id1>","1"],{"gc_1":{"foo":"in|gc_1|gc_1"}}]',
      '[[],{"parent_1":{"foo":"in|gc_1|gc_1"}}]',
    ]);
  });

  it("a subgraph's interrupt streams at its level and the parent's; the resume streams under the same namespace", async () => {
    const graph = parent(subgraph(true), new MemorySaver());
    const config = { configurable: { thread_id: randomUUID() } };
    const first = await collect(
      await graph.stream({ foo: "in" }, { ...config, subgraphs: true, streamMode: "updates" }),
    );
    const resumed = await collect(
      await graph.stream(new Command({ resume: "x" }), { ...config, subgraphs: true, streamMode: "updates" }),
    );
    // One numbering for both runs: the child task keeps its id across the resume.
    expect(normalized([...first, ...resumed].map((chunk) => JSON.parse(chunk)))).toEqual([
      '[[],{"parent_1":{"foo":"in|p1"}}]',
      '[["child:<id1>"],{"__interrupt__":[{"id":"<id2>","value":"question?"}]}]',
      '[[],{"__interrupt__":[{"id":"<id2>","value":"question?"}]}]',
      '[["child:<id1>"],{"sub_1":{"foo":"in|p1|sub_1:x"}}]',
      '[["child:<id1>"],{"sub_2":{"foo":"in|p1|sub_1:x|sub_2"}}]',
      '[[],{"child":{"foo":"in|p1|sub_1:x|sub_2"}}]',
    ]);
  });

  it("a resumed subgraph streams the values it resumes from, as the parent does", async () => {
    const graph = parent(subgraph(true), new MemorySaver());
    const config = { configurable: { thread_id: randomUUID() } };
    await collect(await graph.stream({ foo: "in" }, { ...config, subgraphs: true, streamMode: "values" }));
    const resumed = await collect(
      await graph.stream(new Command({ resume: "y" }), { ...config, subgraphs: true, streamMode: "values" }),
    );
    expect(resumed).toEqual([
      '[[],{"foo":"in|p1"}]',
      '[["child:<id1>"],{"foo":"in|p1"}]',
      '[["child:<id1>"],{"foo":"in|p1|sub_1:y"}]',
      '[["child:<id1>"],{"foo":"in|p1|sub_1:y|sub_2"}]',
      '[[],{"foo":"in|p1|sub_1:y|sub_2"}]',
    ]);
  });

  it('streams a subgraph\'s checkpoints under its namespace, as LangGraph\'s "checkpoints" and "debug"', async () => {
    const graph = parent(subgraph(), new MemorySaver());
    const config = { configurable: { thread_id: randomUUID() } };
    const parts: unknown[] = [];
    for await (const part of await graph.stream(
      { foo: "in" },
      { ...config, subgraphs: true, streamMode: "checkpoints" },
    ))
      parts.push(part);
    const summary = parts.map((part) => {
      const [ns, checkpoint] = part as [
        string[],
        { metadata: { step: number }; next: string[]; config: any },
      ];
      return [ns, checkpoint.metadata.step, checkpoint.next, checkpoint.config.configurable.checkpoint_ns];
    });
    // LangGraph's, one step lower after the input (no step-0 checkpoint): the child's between the parent's.
    expect(normalized(summary)).toEqual([
      '[[],-1,["parent_1"],""]',
      '[[],0,["child"],""]',
      '[["child:<id1>"],-1,["sub_1"],"child:<id1>"]',
      '[["child:<id1>"],0,["sub_2"],"child:<id1>"]',
      '[["child:<id1>"],1,[],"child:<id1>"]',
      '[[],1,[],""]',
    ]);
    const debug: unknown[] = [];
    for await (const part of await graph.stream(
      { foo: "in" },
      { ...config, subgraphs: true, streamMode: "debug" },
    ))
      debug.push(part);
    const checkpoints = debug.filter(
      (part) => (part as [string[], { type: string }])[1].type === "checkpoint",
    );
    expect(checkpoints.map((part) => (part as [string[]])[0].length)).toEqual([0, 0, 1, 1, 1, 0]);
  });

  it("a subgraph's own stream() inside a node streams to its caller and, under its namespace, to the run's", async () => {
    const child = subgraph();
    const inner: unknown[] = [];
    const graph = new StateGraph(State)
      .addNode("child", async (state: S) => {
        for await (const chunk of await child.stream(state, { streamMode: "updates" })) inner.push(chunk);
        return { foo: "done" };
      })
      .addEdge(START, "child")
      .compile();
    const parts = await collect(
      await graph.stream({ foo: "in" }, { subgraphs: true, streamMode: ["updates", "values"] }),
    );
    // The caller gets its own modes, flat; the run gets the run's modes (LangGraph's, the same).
    expect(inner).toEqual([{ sub_1: { foo: "in|sub_1" } }, { sub_2: { foo: "in|sub_1|sub_2" } }]);
    expect(parts).toEqual([
      '[[],"values",{"foo":"in"}]',
      '[["child:<id1>"],"values",{"foo":"in"}]',
      '[["child:<id1>"],"updates",{"sub_1":{"foo":"in|sub_1"}}]',
      '[["child:<id1>"],"values",{"foo":"in|sub_1"}]',
      '[["child:<id1>"],"updates",{"sub_2":{"foo":"in|sub_1|sub_2"}}]',
      '[["child:<id1>"],"values",{"foo":"in|sub_1|sub_2"}]',
      '[[],"updates",{"child":{"foo":"done"}}]',
      '[[],"values",{"foo":"done"}]',
    ]);
    // Without subgraphs: true, the run still gets the subgraph's custom chunks.
    const custom = await collect(await graph.stream({ foo: "in" }, { streamMode: "custom" }));
    expect(custom).toEqual([
      '{"from":"sub_1","via":"config.writer"}',
      '{"from":"sub_1","via":"getWriter()"}',
    ]);
  });

  it("a subgraph with an output schema streams its output keys, as invoke returns them", async () => {
    const inner = new StateGraph({
      state: z.object({ foo: z.string(), notes: z.string() }),
      input: State,
      output: State,
    })
      .addNode("note", (state) => ({ notes: `notes on ${state.foo}` }))
      .addNode("finish", (state) => ({ foo: `${state.foo}|${state.notes}` }))
      .addEdge(START, "note")
      .addEdge("note", "finish")
      .compile();
    const graph = new StateGraph(State).addNode("child", inner).addEdge(START, "child").compile();
    // "values" only after an output key was written; "updates" with the output keys only.
    expect(
      await collect(
        await graph.stream({ foo: "in" }, { subgraphs: true, streamMode: ["values", "updates"] }),
      ),
    ).toEqual([
      '[[],"values",{"foo":"in"}]',
      '[["child:<id1>"],"values",{"foo":"in"}]',
      '[["child:<id1>"],"updates",{"note":{}}]',
      '[["child:<id1>"],"updates",{"finish":{"foo":"in|notes on in"}}]',
      '[["child:<id1>"],"values",{"foo":"in|notes on in"}]',
      '[[],"updates",{"child":{"foo":"in|notes on in"}}]',
      '[[],"values",{"foo":"in|notes on in"}]',
    ]);
  });

  it("a subgraph node its retry policy retries runs anew, as LangGraph's, with a checkpointer too", async () => {
    let failures = 1;
    const child = new StateGraph(State)
      .addNode("sub_1", append("sub_1"))
      .addNode("sub_2", (state: S) => {
        if (failures-- > 0) throw new Error("flaky");
        return { foo: `${state.foo}|sub_2` };
      })
      .addEdge(START, "sub_1")
      .addEdge("sub_1", "sub_2")
      .compile();
    const graph = new StateGraph(State)
      .addNode("child", child, { retryPolicy: { maxAttempts: 2, initialInterval: 1, jitter: false } })
      .addEdge(START, "child")
      .compile({ checkpointer: new MemorySaver() });
    const config = { configurable: { thread_id: randomUUID() }, subgraphs: true };
    const parts = await collect(await graph.stream({ foo: "in" }, config));
    // sub_1 runs again in the second attempt (LangGraph numbers its namespace ["child:<id1>", "1"]).
    expect(parts).toEqual([
      '[["child:<id1>"],{"sub_1":{"foo":"in|sub_1"}}]',
      '[["child:<id1>"],{"sub_1":{"foo":"in|sub_1"}}]',
      '[["child:<id1>"],{"sub_2":{"foo":"in|sub_1|sub_2"}}]',
      '[[],{"child":{"foo":"in|sub_1|sub_2"}}]',
    ]);
  });

  it("streams a subgraph's chat model tokens under its namespace", async () => {
    const model = new FakeListChatModel({ responses: ["hey"] });
    const child = new StateGraph(State)
      .addNode("sub_1", async (state: S) => ({ foo: `${state.foo}|${(await model.invoke("hi")).content}` }))
      .addEdge(START, "sub_1")
      .compile();
    const graph = new StateGraph(State).addNode("child", child).addEdge(START, "child").compile();
    const parts: unknown[] = [];
    for await (const part of await graph.stream({ foo: "in" }, { subgraphs: true, streamMode: "messages" }))
      parts.push(part);
    const tokens = parts.map((part) => {
      const [ns, [message, metadata]] = part as [string[], [{ content: string }, Record<string, unknown>]];
      return [ns.map((segment) => segment.split(":")[0]), message.content, metadata.langgraph_node];
    });
    expect(tokens).toEqual([
      [["child"], "h", "sub_1"],
      [["child"], "e", "sub_1"],
      [["child"], "y", "sub_1"],
    ]);
    // Without subgraphs: true a subgraph's tokens are not streamed (LangGraph.js the same).
    const flat: unknown[] = [];
    for await (const part of await graph.stream({ foo: "in" }, { streamMode: "messages" })) flat.push(part);
    expect(flat).toEqual([]);
  });
});
