/**
 * The two graphs of the distributed benchmark, written once against the API Layover and
 * LangGraph.js share and built by both: the worker processes load them through
 * `worker-graphs.ts` (Layover), the peer compiles them in-process with LangGraph.js.
 */

export { approvalGraph, type GraphApi, LINEAR_NODES, linearGraph } from "../support/graphs.ts";

import { LINEAR_NODES } from "../support/graphs.ts";

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
