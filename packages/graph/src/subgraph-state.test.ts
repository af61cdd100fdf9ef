// getState(config, { subgraphs: true }): a paused subgraph node's task carries the subgraph's
// own snapshot, as LangGraph's (recorded from LangGraph.js 1.7.3 on the same graphs).
import { randomUUID } from "node:crypto";
import { describe, expect, it } from "vitest";
import { z } from "zod";
import { END, interrupt, MemorySaver, START, StateGraph, type StateSnapshot } from "./index.ts";

const State = z.object({ foo: z.string() });
type S = z.infer<typeof State>;

const asking = new StateGraph(State)
  .addNode("sub_1", (state: S) => ({ foo: `${state.foo}|${interrupt<string, string>("question?")}` }))
  .addNode("sub_2", (state: S) => ({ foo: `${state.foo}|sub_2` }))
  .addEdge(START, "sub_1")
  .addEdge("sub_1", "sub_2")
  .compile();

function parentOf(child: ReturnType<typeof asking.withCheckpointer> | typeof asking) {
  return new StateGraph(State)
    .addNode("parent_1", (state: S) => ({ foo: `${state.foo}|p1` }))
    .addNode("child", child)
    .addEdge(START, "parent_1")
    .addEdge("parent_1", "child")
    .addEdge("child", END)
    .compile({ checkpointer: new MemorySaver() });
}

async function paused(graph: ReturnType<typeof parentOf>) {
  const config = { configurable: { thread_id: randomUUID() } };
  await graph.invoke({ foo: "in" }, config);
  return config;
}

describe("getState with subgraphs", () => {
  it("gives a paused subgraph node's task the subgraph's snapshot: values, next, its asking task", async () => {
    const graph = parentOf(asking);
    const config = await paused(graph);
    const state = await graph.getState(config, { subgraphs: true });
    const [task] = state.tasks;
    const sub = task?.state as StateSnapshot;
    expect([state.next, task?.name]).toEqual([["child"], "child"]);
    expect(sub.values).toEqual({ foo: "in|p1" });
    expect(sub.next).toEqual(["sub_1"]);
    expect(sub.tasks.map((t) => [t.name, t.interrupts.map((i) => i.value)])).toEqual([
      ["sub_1", ["question?"]],
    ]);
    expect(sub.config.configurable).toMatchObject({
      thread_id: config.configurable.thread_id,
      checkpoint_ns: `child:${task?.id}`,
      checkpoint_id: expect.any(String),
    });
    expect(sub.tasks[0]?.interrupts[0]?.id).toBe(task?.interrupts[0]?.id);
  });

  it("without subgraphs: true, the task says where the subgraph's state is", async () => {
    const graph = parentOf(asking);
    const config = await paused(graph);
    const [task] = (await graph.getState(config)).tasks;
    expect(task?.state).toEqual({
      configurable: { thread_id: config.configurable.thread_id, checkpoint_ns: `child:${task?.id}` },
    });
  });

  it("reads a subgraph's state and history from its task's config, as LangGraph's, nested ones too", async () => {
    const graph = parentOf(asking);
    const config = await paused(graph);
    const where = (await graph.getState(config)).tasks[0]?.state as { configurable: Record<string, unknown> };
    // It read the subgraph's checkpoints with the parent's nodes: next [] and no tasks, as if done.
    const sub = await graph.getState(where);
    expect([sub.values, sub.next]).toEqual([{ foo: "in|p1" }, ["sub_1"]]);
    expect(sub.tasks.map((t) => [t.name, t.interrupts.map((i) => i.value)])).toEqual([
      ["sub_1", ["question?"]],
    ]);
    const history: string[][] = [];
    for await (const snapshot of graph.getStateHistory(where)) history.push(snapshot.next);
    expect(history[0]).toEqual(["sub_1"]);

    const middle = new StateGraph(State).addNode("grandchild", asking).addEdge(START, "grandchild").compile();
    const nested = parentOf(middle);
    const nestedConfig = await paused(nested);
    const outer = (await nested.getState(nestedConfig, { subgraphs: true })).tasks[0]?.state as StateSnapshot;
    const innerConfig = (outer.tasks[0] as { state: StateSnapshot }).state.config;
    expect(String(innerConfig.configurable?.checkpoint_ns)).toContain("|grandchild:");
    const inner = await nested.getState(innerConfig as never);
    expect(inner.next).toEqual(["sub_1"]);
  });

  it("expands nested subgraphs too; a subgraph called inside a node function has no state", async () => {
    const middle = new StateGraph(State).addNode("grandchild", asking).addEdge(START, "grandchild").compile();
    const nested = parentOf(middle);
    const config = await paused(nested);
    const outer = (await nested.getState(config, { subgraphs: true })).tasks[0]?.state as StateSnapshot;
    const inner = outer.tasks[0]?.state as StateSnapshot;
    expect([outer.next, inner.next, inner.values]).toEqual([["grandchild"], ["sub_1"], { foo: "in|p1" }]);

    const caller = new StateGraph(State)
      .addNode("call", async (state: S) => asking.invoke(state))
      .addEdge(START, "call")
      .compile({ checkpointer: new MemorySaver() });
    const callConfig = { configurable: { thread_id: randomUUID() } };
    await caller.invoke({ foo: "in" }, callConfig);
    const [task] = (await caller.getState(callConfig, { subgraphs: true })).tasks;
    expect(task?.interrupts.map((i) => i.value)).toEqual(["question?"]);
    expect(task).not.toHaveProperty("state");
  });
});
