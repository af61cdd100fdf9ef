// What the sweep benchmark's worker processes serve: `layover-worker --graphs bench/sweep/graphs.ts`.
// One node that waits for an answer (timeout 1 h, so the interrupt parks with a deadline) and
// then finishes with whatever it got: the sweep's timeout rejection, in the benchmark.
import { Annotation, END, interrupt, isTimeoutRejection, START, StateGraph } from "@layover/graph";

export const WAIT_ID = "sweep-wait";
/** The interrupt's own timeout: long enough never to pass on its own during a run. */
export const WAIT_TIMEOUT_MS = 3_600_000;

const State = Annotation.Root({
  request: Annotation<string>(),
  timedOut: Annotation<boolean>(),
});

export const graphs = {
  [WAIT_ID]: new StateGraph(State)
    .addNode("ask", (state: { request: string }) => {
      const answer = interrupt({ question: `approve ${state.request}?` }, { timeout: WAIT_TIMEOUT_MS });
      return { timedOut: isTimeoutRejection(answer) };
    })
    .addEdge(START, "ask")
    .addEdge("ask", END)
    .compile(),
};
