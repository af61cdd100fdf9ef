import type { CheckpointMetadata } from "@layover/checkpoint";
import type { PlannedTask } from "./plan.ts";

/** Node names a static breakpoint option lists, or "*" for every node. */
export type BreakpointNodes = ReadonlySet<string> | "*";

export function matchesBreakpoint(nodes: BreakpointNodes, names: readonly string[]): boolean {
  return nodes === "*" ? names.length > 0 : names.some((name) => nodes.has(name));
}

/**
 * True when a static breakpoint stands between a checkpoint and its tasks, without I/O:
 * `interruptBefore` names one of the tasks, or `interruptAfter` names a node whose superstep
 * made the checkpoint (read from its metadata, so the answer is the same in every process
 * and for every re-delivery of the step). Only a continue (`invoke(null)`) passes it.
 */
export function breakpointAhead(
  breakpoints: { interruptBefore: BreakpointNodes; interruptAfter: BreakpointNodes },
  metadata: CheckpointMetadata,
  tasks: readonly PlannedTask[],
): boolean {
  if (tasks.length === 0) return false;
  if (
    matchesBreakpoint(
      breakpoints.interruptBefore,
      tasks.map((task) => task.name),
    )
  )
    return true;
  if (metadata.source !== "loop") return false;
  return matchesBreakpoint(breakpoints.interruptAfter, Object.keys(metadata.writes ?? {}));
}
