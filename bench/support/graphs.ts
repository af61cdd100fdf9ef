/**
 * The graphs bench/engine and bench/distributed both time, written once against the API Layover
 * and LangGraph.js share, and built by either.
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

/** 10 nodes in a chain; each adds 1 to `count` (sum reducer) and appends to `log` (concat): the linear case. */
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

/** planner → approval (calls `interrupt()`) → act: the interrupt round trip. */
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
