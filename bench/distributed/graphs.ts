/**
 * The two graphs of the distributed benchmark, written once against the API Layover and
 * LangGraph.js share and built by both: the worker processes load them through
 * `worker-graphs.ts` (Layover), the peer compiles them in-process with LangGraph.js.
 */

export interface GraphApi {
  StateGraph: new (state: any) => any;
  Annotation: any;
  START: string;
  END: string;
  interrupt: (value: unknown) => any;
}

export const LINEAR_NODES = 10;

const sum = (a: number, b: number) => a + b;
const concat = (a: string[], b: string | string[]) => a.concat(b);

/** 10 nodes in a chain; each adds 1 to `count` (sum reducer) and appends to `log` (concat): bench/engine's. */
export function linearGraph(api: GraphApi): any {
  const State = api.Annotation.Root({
    count: api.Annotation({ reducer: sum, default: () => 0 }),
    log: api.Annotation({ reducer: concat, default: () => [] }),
  });
  const graph = new api.StateGraph(State);
  for (let i = 0; i < LINEAR_NODES; i++) {
    graph.addNode(`n${i}`, (state: { count: number }) => ({ count: 1, log: `n${i}:${state.count}` }));
    graph.addEdge(i === 0 ? api.START : `n${i - 1}`, `n${i}`);
  }
  graph.addEdge(`n${LINEAR_NODES - 1}`, api.END);
  return graph;
}

/** planner → approval (calls `interrupt()`) → act: bench/engine's interrupt case. */
export function approvalGraph(api: GraphApi): any {
  const State = api.Annotation.Root({
    request: api.Annotation(),
    plan: api.Annotation(),
    decision: api.Annotation(),
    result: api.Annotation(),
  });
  return new api.StateGraph(State)
    .addNode("planner", (state: { request: string }) => ({ plan: `book ${state.request}` }))
    .addNode("approval", (state: { plan: string }) => ({
      decision: api.interrupt({ question: "Approve?", plan: state.plan }),
    }))
    .addNode("act", (state: { plan: string; decision: string }) => ({
      result: `${state.decision}: ${state.plan}`,
    }))
    .addEdge(api.START, "planner")
    .addEdge("planner", "approval")
    .addEdge("approval", "act")
    .addEdge("act", api.END);
}

/** Graph ids the worker processes serve. */
export const LINEAR_ID = "bench-linear";
export const APPROVAL_ID = "bench-approval";

export const LINEAR_INPUT = { count: 0 };
export const APPROVAL_INPUT = { request: "LHR→JFK" };
export const APPROVAL_ANSWER = "approved";

export function check(ok: boolean, what: string): void {
  if (!ok) throw new Error(`Benchmark graph returned the wrong result: ${what}`);
}

export function checkLinear(values: any): void {
  check(values?.count === LINEAR_NODES && values?.log?.length === LINEAR_NODES, "linear count/log");
}

export function checkFinished(values: any): void {
  check(
    values?.result === `${APPROVAL_ANSWER}: book ${APPROVAL_INPUT.request}`,
    "approval result after resume",
  );
}
