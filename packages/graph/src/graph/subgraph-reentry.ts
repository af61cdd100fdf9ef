// When a subgraph called again from a task goes on where it was, keeps the result it finished
// with, or runs anew: the rules a graph's entry applies to its head when it runs as a subgraph.
import { SUBGRAPH_INPUT } from "../commit.ts";
import { currentTask } from "../context.ts";
import type { LoadedHead } from "../head.ts";
import type { StepEnv } from "../step.ts";

/**
 * Whether a subgraph call that finished in this task's namespace keeps its result: when the
 * task runs again for its first attempt (a resume, a redo after a crash) with the same input.
 * Running it anew would repeat its side effects and ask its answered questions again. A retry
 * (the node's retry policy) or another input asks for the work again: it runs anew.
 */
export function keepsResult(env: StepEnv, head: LoadedHead): boolean {
  if (retried()) return false;
  const recorded = head.metadata[SUBGRAPH_INPUT];
  // A checkpoint written before inputs were recorded: keep the result, as then.
  return recorded === undefined || recorded === env.metadata?.[SUBGRAPH_INPUT];
}

/**
 * Whether the running task is its retry policy's retry: the work its failed attempt began is
 * asked for again, so a subgraph it left part way runs anew, as LangGraph's.
 */
export function retried(): boolean {
  return (currentTask()?.attempt ?? 1) > 1;
}
