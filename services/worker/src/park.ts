import type { Pause } from "@layover/graph";
import { jsonbProblem, type NewInterrupt, type RunRow } from "@layover/runtime";
import type { ServedGraph, WorkerContext } from "./context.ts";

/**
 * The interrupts of a parking run as rows: which task and node asked (from the step's outcome),
 * and the deadline's timeout — the interrupt's own, else the graph's, else the worker's default.
 */
export function interruptRows(
  ctx: WorkerContext,
  served: ServedGraph,
  run: RunRow,
  outcome: Pause,
): NewInterrupt[] {
  const owner = new Map<string, { taskId: string; node: string }>();
  for (const task of outcome.waiting) {
    for (const i of task.interrupts) owner.set(i.id, { taskId: task.id, node: task.name });
  }
  return outcome.interrupts.map((interrupt) => {
    const { id, value, ...options } = interrupt;
    const onTimeout = options.onTimeout ?? served.onTimeout;
    return {
      thread_id: run.thread_id,
      id,
      run_id: run.id,
      graph_id: run.graph_id,
      task_id: owner.get(id)?.taskId ?? "",
      node: owner.get(id)?.node ?? "",
      checkpoint_id: outcome.checkpointId,
      value: value ?? null,
      options: { ...options, ...(onTimeout !== undefined ? { onTimeout } : {}) },
      timeout_ms: options.timeoutMs ?? served.timeoutMs ?? ctx.defaultTimeoutMs,
    };
  });
}

/** Why the runtime's tables cannot hold the interrupts (a NUL character, half a surrogate pair), if they cannot. */
export function unparkable(interrupts: readonly NewInterrupt[]): string | undefined {
  return jsonbProblem(
    interrupts.map(({ value, options }) => ({ value, options })),
    "An interrupt's value",
  );
}
