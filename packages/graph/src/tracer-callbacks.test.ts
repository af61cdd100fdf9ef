// A LangChain tracer (LangSmith's, any BaseTracer) given as a call's callback sees each node as a
// chain run and the models its node calls under it, each with a trace id, as LangGraph.js 1.7.3's
// tracer sees them (the graph itself is not a run here). A node's callbacks had a parent run the
// tracer never heard of: its model runs lost their trace id and dotted order.
import { BaseTracer, type Run } from "@langchain/core/tracers/base";
import { FakeListChatModel } from "@langchain/core/utils/testing";
import { describe, expect, it } from "vitest";
import { Annotation, END, entrypoint, START, StateGraph, task } from "./index.ts";

class Recorder extends BaseTracer {
  name = "recorder";
  created: Run[] = [];
  ended: string[] = [];
  protected async persistRun(): Promise<void> {}
  override async onRunCreate(run: Run): Promise<void> {
    this.created.push({ ...run });
  }
  override async onChainEnd(run: Run): Promise<void> {
    this.ended.push(`end ${run.name}`);
  }
  override async onChainError(run: Run): Promise<void> {
    this.ended.push(`error ${run.name}`);
  }
  /** Runs started and not ended. */
  get open(): number {
    return this.runMap.size;
  }
  /** The name of the run `run` is under, if the tracer heard of it. */
  parentOf(name: string): string | undefined {
    const run = this.created.find((one) => one.name === name);
    return this.created.find((one) => one.id === run?.parent_run_id)?.name;
  }
}

function graph(passConfig: boolean, subgraph: boolean) {
  const State = Annotation.Root({ out: Annotation<string>() });
  const model = new FakeListChatModel({ responses: ["hello there"] });
  const ask = async (_state: unknown, config: never) => ({
    out: String((await model.invoke("hi", passConfig ? config : undefined)).content),
  });
  const inner = new StateGraph(State).addNode("ask", ask).addEdge(START, "ask").addEdge("ask", END).compile();
  const outer = new StateGraph(State);
  if (subgraph)
    outer.addNode("chat", (state, config) => inner.invoke(state, passConfig ? config : undefined));
  else outer.addNode("chat", ask);
  return outer.addEdge(START, "chat").addEdge("chat", END).compile();
}

describe("a tracer given as a callback", () => {
  for (const passConfig of [true, false])
    for (const subgraph of [false, true])
      it(`sees the node's run and its model's under it, with trace ids (config ${passConfig ? "passed" : "not passed"}${subgraph ? ", in a subgraph" : ""})`, async () => {
        const tracer = new Recorder();
        expect(await graph(passConfig, subgraph).invoke({}, { callbacks: [tracer] })).toEqual({
          out: "hello there",
        });
        const llm = tracer.created.filter((run) => run.run_type === "llm");
        expect(llm).toHaveLength(1);
        const parent = tracer.created.find((run) => run.id === llm[0]?.parent_run_id);
        expect(parent).toMatchObject({ run_type: "chain", name: subgraph ? "ask" : "chat" });
        // A subgraph's node runs under the node that runs the subgraph.
        if (subgraph) expect(tracer.parentOf("ask")).toBe("chat");
        for (const run of tracer.created) {
          expect(run.trace_id).toBeDefined();
          expect(run.dotted_order).toBeDefined();
        }
        expect(llm[0]?.trace_id).toBe(parent?.trace_id);
      });

  it("sees a workflow's task() calls under its entrypoint's run, with their arguments as an object", async () => {
    const double = task("double", async (n: number) => n * 2);
    const wf = entrypoint("wf", async (n: number) => double(n));
    const tracer = new Recorder();
    expect(await wf.invoke(3, { callbacks: [tracer] })).toBe(6);
    expect(tracer.parentOf("double")).toBe("wf");
    expect(tracer.created.find((run) => run.name === "double")?.inputs).toEqual({ input: [3] });
    expect(tracer.created.find((run) => run.name === "wf")?.inputs).toEqual({ input: 3 });
  });

  it("ends a node's run with an error when its attempt times out, though the node runs on", async () => {
    const State = Annotation.Root({ out: Annotation<string>() });
    let finish: () => void = () => {};
    const slow = new StateGraph(State)
      .addNode(
        "slow",
        async () => {
          await new Promise<void>((resolve) => {
            finish = resolve;
          }); // deaf to its signal
          return { out: "late" };
        },
        { timeout: 50 },
      )
      .addEdge(START, "slow")
      .compile();
    const tracer = new Recorder();
    await expect(slow.invoke({}, { callbacks: [tracer] })).rejects.toMatchObject({ code: "NODE_TIMEOUT" });
    expect(tracer.ended).toEqual(["error slow"]);
    expect(tracer.open).toBe(0);
    finish();
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(tracer.ended).toEqual(["error slow"]); // no late success
  });
});
