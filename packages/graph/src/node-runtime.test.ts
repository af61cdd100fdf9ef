// What a node takes from its second argument besides the config, as LangGraph's runtime gives it:
// `interrupt` (the same pause as the imported one) and `executionInfo` (where the task runs, and
// which attempt this is). Expectations recorded from LangGraph.js 1.7.3 running the same graphs.
import { randomUUID } from "node:crypto";
import { describe, expect, it } from "vitest";
import { Annotation, Command, entrypoint, getConfig, MemorySaver, START, StateGraph, task } from "./index.ts";

const State = Annotation.Root({ answer: Annotation<string>() });

describe("a node's runtime", () => {
  it("interrupt pauses the node as interrupt() does; the resume's value is what it returns", async () => {
    const graph = new StateGraph(State)
      .addNode("ask", (_state, runtime) => ({ answer: runtime.interrupt<string, string>("proceed?") }))
      .addEdge(START, "ask")
      .compile({ checkpointer: new MemorySaver() });
    const config = { configurable: { thread_id: randomUUID() } };
    const paused = await graph.invoke({}, config);
    expect(paused.__interrupt__?.map((i) => i.value)).toEqual(["proceed?"]);
    expect(await graph.invoke(new Command({ resume: "yes" }), config)).toEqual({ answer: "yes" });
  });

  it("executionInfo says the attempt (a retried node's second is 2), the task, its namespace and thread", async () => {
    const seen: {
      nodeAttempt: number;
      taskId: string;
      checkpointNs: string;
      threadId: string;
      checkpointId: string;
    }[] = [];
    const graph = new StateGraph(State)
      .addNode(
        "flaky",
        (_state, runtime) => {
          // A copy keeps nodeAttempt (a spread, or JSON of it, as a node that stores it makes).
          seen.push(JSON.parse(JSON.stringify({ ...runtime.executionInfo })));
          if (seen.length < 2) throw new Error("flaky");
          return { answer: "ok" };
        },
        { retryPolicy: { maxAttempts: 3, initialInterval: 1, jitter: false } },
      )
      .addEdge(START, "flaky")
      .compile({ checkpointer: new MemorySaver() });
    const config = { configurable: { thread_id: randomUUID() } };
    expect(await graph.invoke({}, config)).toEqual({ answer: "ok" });
    expect(seen.map((info) => info.nodeAttempt)).toEqual([1, 2]);
    const [first] = seen;
    expect(first).toMatchObject({
      threadId: config.configurable.thread_id,
      checkpointNs: `flaky:${first?.taskId}`,
    });
    // The checkpoint the task ran from: the input's.
    const history = [];
    for await (const snapshot of graph.getStateHistory(config)) history.push(snapshot);
    const input = history.find((snapshot) => snapshot.metadata?.source === "input");
    expect(first?.checkpointId).toBe(input?.config.configurable?.checkpoint_id);
  });
});

describe("a Command for the parent graph from a root graph's node", () => {
  it("fails the run naming the node and saying why (LangGraph drops it); as a subgraph it routes the parent", async () => {
    const Handoff = Annotation.Root({ to: Annotation<string>() });
    const handoff = new StateGraph(Handoff)
      .addNode(
        "route",
        () => new Command({ graph: Command.PARENT, goto: "billing", update: { to: "billing" } }),
      )
      .addEdge(START, "route")
      .compile();
    await expect(handoff.invoke({})).rejects.toMatchObject({
      code: "INVALID_UPDATE",
      message: expect.stringContaining('Node "route" returned a Command for the parent graph'),
    });
    const parent = new StateGraph(Handoff)
      .addNode("agent", handoff, { ends: ["billing"] })
      .addNode("billing", (state) => ({ to: `${state.to} handled` }))
      .addEdge(START, "agent")
      .compile();
    expect(await parent.invoke({})).toEqual({ to: "billing handled" });
  });
  it("signal is there when the call gave none, as LangGraph's: a node, an entrypoint and its task can listen", async () => {
    const seen: unknown[] = [];
    const look = (signal: unknown) => seen.push(signal instanceof AbortSignal && !signal.aborted);
    const graph = new StateGraph(State)
      .addNode("n", (_state, config) => {
        look(config.signal);
        return {};
      })
      .addEdge(START, "n")
      .compile();
    await graph.invoke({});
    const lookup = task("lookup", async () => look(getConfig().signal));
    const wf = entrypoint("wf", async (_input: string, config) => {
      look(config.signal);
      await lookup();
      return "ok";
    });
    await wf.invoke("go");
    expect(seen).toEqual([true, true, true]);
  });
});
