import * as langgraph from "@langchain/langgraph";
import { InMemoryCache as LangGraphCache } from "@langchain/langgraph-checkpoint";
import * as layover from "@layover/graph";
import { approvalGraph, type GraphApi as GraphCore, LINEAR_NODES, linearGraph } from "../support/graphs.ts";

/**
 * The part of the graph API both engines share. Each case is written once against it and
 * built twice, so the two engines run the very same graph definition.
 */
export interface GraphApi extends GraphCore {
  Command: new (params: { resume: unknown }) => unknown;
  MemorySaver: new () => any;
  entrypoint: (options: { name: string; checkpointer?: unknown }, fn: (input: any) => unknown) => any;
  task: (name: string, fn: (...args: any[]) => unknown) => (...args: any[]) => Promise<any>;
  InMemoryCache: new () => any;
}

export interface Engine {
  name: "Layover" | "LangGraph.js";
  api: GraphApi;
}

export const engines: readonly Engine[] = [
  { name: "Layover", api: layover as unknown as GraphApi },
  { name: "LangGraph.js", api: { ...langgraph, InMemoryCache: LangGraphCache } as unknown as GraphApi },
];

/** One run of a case on a fresh thread; it throws when the graph did not do what it should. */
export type Run = (threadId: string) => Promise<void>;

export interface BenchCase {
  name: "linear" | "fan-out" | "interrupt" | "functional" | "cached";
  /** What one run is, for the table's legend. */
  describe: string;
  /** Supersteps that run nodes in one run (the interrupted attempt counts as one). */
  supersteps: number;
  /**
   * Compiles the case with `checkpointer`, by default a new MemorySaver of the engine (the
   * Postgres benchmark passes each engine's Postgres saver).
   */
  build(api: GraphApi, checkpointer?: unknown): Run;
}

const concat = (a: string[], b: string | string[]) => a.concat(b);

function config(threadId: string) {
  return { configurable: { thread_id: threadId } };
}

function check(ok: boolean, what: string): void {
  if (!ok) throw new Error(`Benchmark graph returned the wrong result: ${what}`);
}

const linear: BenchCase = {
  name: "linear",
  describe: `${LINEAR_NODES} nodes in a chain; each adds 1 to count (sum) and appends to log (concat)`,
  supersteps: LINEAR_NODES,
  build(api, checkpointer) {
    const graph = linearGraph(api);
    const app = graph.compile({ checkpointer: checkpointer ?? new api.MemorySaver() });
    return async (threadId) => {
      const out = await app.invoke({ count: 0 }, config(threadId));
      check(out.count === LINEAR_NODES && out.log.length === LINEAR_NODES, "linear count/log");
    };
  },
};

const FAN_OUT = 8;

const fanOut: BenchCase = {
  name: "fan-out",
  describe: `START → ${FAN_OUT} parallel nodes (concat reducer) → join → END`,
  supersteps: 2,
  build(api, checkpointer) {
    const State = api.Annotation.Root({
      results: api.Annotation({ reducer: concat, default: () => [] }),
      total: api.Annotation(),
    });
    const graph = new api.StateGraph(State);
    graph.addNode("join", (state: { results: string[] }) => ({ total: state.results.length }));
    for (let i = 0; i < FAN_OUT; i++) {
      graph.addNode(`w${i}`, () => ({ results: `w${i}` }));
      graph.addEdge(api.START, `w${i}`);
      graph.addEdge(`w${i}`, "join");
    }
    graph.addEdge("join", api.END);
    const app = graph.compile({ checkpointer: checkpointer ?? new api.MemorySaver() });
    return async (threadId) => {
      const out = await app.invoke({ results: [] }, config(threadId));
      check(out.total === FAN_OUT, "fan-out total");
    };
  },
};

const interruptRoundTrip: BenchCase = {
  name: "interrupt",
  describe: "planner → approval (interrupt) → act: invoke until paused, then resume with a Command",
  supersteps: 4,
  build(api, checkpointer) {
    const graph = approvalGraph(api);
    const app = graph.compile({ checkpointer: checkpointer ?? new api.MemorySaver() });
    return async (threadId) => {
      const paused = await app.invoke({ request: "LHR→JFK" }, config(threadId));
      check(paused.__interrupt__?.length === 1 && paused.result === undefined, "interrupt pause");
      const done = await app.invoke(new api.Command({ resume: "approved" }), config(threadId));
      check(done.result === "approved: book LHR→JFK", "interrupt resume");
    };
  },
};

const FUNCTIONAL_TASKS = 10;

const functional: BenchCase = {
  name: "functional",
  describe: `entrypoint: ${FUNCTIONAL_TASKS} tasks in sequence, then interrupt(); the resume gives their results back and returns`,
  supersteps: 2,
  build(api, checkpointer) {
    const step = api.task("step", (n: number) => n + 1);
    const workflow = api.entrypoint(
      { name: "workflow", checkpointer: checkpointer ?? new api.MemorySaver() },
      async (input: { start: number }) => {
        let n = input.start;
        for (let i = 0; i < FUNCTIONAL_TASKS; i++) n = await step(n);
        return { n, decision: api.interrupt({ question: "Approve?", n }) };
      },
    );
    return async (threadId) => {
      const paused = await workflow.invoke({ start: 0 }, config(threadId));
      check(paused.__interrupt__?.length === 1, "functional pause");
      const done = await workflow.invoke(new api.Command({ resume: "approved" }), config(threadId));
      check(done.n === FUNCTIONAL_TASKS && done.decision === "approved", "functional resume");
    };
  },
};

const cached: BenchCase = {
  name: "cached",
  describe:
    "lookup (cachePolicy, InMemoryCache) → format: every run after the batch's first gets lookup's writes from the cache",
  supersteps: 2,
  build(api, checkpointer) {
    const State = api.Annotation.Root({
      city: api.Annotation(),
      forecast: api.Annotation(),
      text: api.Annotation(),
    });
    const graph = new api.StateGraph(State)
      .addNode("lookup", (state: { city: string }) => ({ forecast: `sunny in ${state.city}` }), {
        cachePolicy: { ttl: 600 },
      })
      .addNode("format", (state: { forecast: string }) => ({ text: state.forecast.toUpperCase() }))
      .addEdge(api.START, "lookup")
      .addEdge("lookup", "format")
      .addEdge("format", api.END);
    const app = graph.compile({
      checkpointer: checkpointer ?? new api.MemorySaver(),
      cache: new api.InMemoryCache(),
    });
    return async (threadId) => {
      const out = await app.invoke({ city: "Amsterdam" }, config(threadId));
      check(out.text === "SUNNY IN AMSTERDAM", "cached text");
    };
  },
};

export const cases: readonly BenchCase[] = [linear, fanOut, interruptRoundTrip, functional, cached];
