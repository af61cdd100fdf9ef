/** The virtual entry node: `addEdge(START, "first")`. */
export const START = "__start__";
/** The virtual exit node: `addEdge("last", END)` or `goto: END`. */
export const END = "__end__";
/** Key under which `invoke` returns pending interrupts. */
export const INTERRUPT = "__interrupt__";

/** Reserved channel and task names used in pending writes. */
export const RESUME = "__resume__";
export const ERROR = "__error__";
/**
 * Beside a failed task's ERROR: its node's error handler ran for it (the value names the handler
 * node), and the task's other pending writes are the handler's. A superstep run again runs the
 * handler, not the node.
 */
export const ERROR_SOURCE = "__error_source_node__";
/** Where a node's error handler finds the NodeError in its config's `configurable`, as LangGraph's. */
export const CONFIG_KEY_NODE_ERROR = "__pregel_node_error";
export const TASKS = "__tasks__";
/** The channel of a `task()` call's result in its pending writes: replayed when its superstep runs again. */
export const RETURN = "__return__";
export const BREAKPOINT = "__breakpoint__";
/** Marks a task that finished without writing anything, so a resume does not run it again. */
export const NO_WRITES = "__no_writes__";
/** Task id for writes that belong to no task (a Command's `update` given as input). */
export const INPUT_TASK_ID = "__input__";
/**
 * Key of a resume value given while no interrupt was pending (after `updateState`, at a static
 * breakpoint): the first `interrupt()` call of the next superstep without an answer of its own
 * takes it, as LangGraph's null-task resume.
 */
export const NULL_RESUME = "__null_resume__";
/**
 * Key of the note that an interrupt() took the NULL_RESUME value (its own answer is then
 * recorded by id): a superstep that pauses or fails after it does not offer the value again.
 */
export const NULL_RESUME_TAKEN = "__null_resume_taken__";

/** Fixed write indexes for special channels, so they never collide with a task's own writes. */
export const SPECIAL_WRITE_IDX = {
  [ERROR]: -1,
  [ERROR_SOURCE]: -2,
  [INTERRUPT]: -3,
  [RESUME]: -4,
  [BREAKPOINT]: -5,
} as const;

export function triggerChannel(node: string): string {
  return `branch:to:${node}`;
}

export function joinChannel(sources: readonly string[], target: string): string {
  return `join:${sources.join("+")}:${target}`;
}

/** The node a trigger or join channel starts (node names cannot hold ":"); undefined for any other channel. */
export function triggeredNode(channel: string): string | undefined {
  if (channel.startsWith("branch:to:")) return channel.slice("branch:to:".length);
  if (channel.startsWith("join:")) return channel.slice(channel.lastIndexOf(":") + 1);
  return undefined;
}

/** True for the engine's own channels (edges, joins, `__…__`): not part of the user's state. */
export function isInternalChannel(name: string): boolean {
  return name.startsWith("__") || name.startsWith("branch:to:") || name.startsWith("join:");
}

/** Supersteps a run takes at most unless its config's recursionLimit says otherwise, as LangGraph's. */
export const DEFAULT_RECURSION_LIMIT = 25;

/** A compiled graph's name when `compile({ name })` gives none, as LangGraph's. */
export const DEFAULT_GRAPH_NAME = "LangGraph";

/** A task id inside a checkpoint namespace (`node:taskId`, `node:taskId:n` for a node's n-th subgraph call). */
const NAMESPACE_TASK_ID = /:[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/g;

/**
 * A subgraph's place, from its checkpoint namespace (`node:taskId|node:taskId:1`) without the task
 * ids, which change with every run (`node|node:1`): what stays the same from run to run.
 */
export function namespacePlace(ns: string): string {
  return ns.replace(NAMESPACE_TASK_ID, "");
}
