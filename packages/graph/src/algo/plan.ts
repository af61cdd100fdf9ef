import type { Checkpoint } from "@layover/checkpoint";
import { triggeredNode } from "../constants.ts";
import type { GraphSpec, TimeoutPolicy } from "../graph/spec.ts";
import { deterministicId } from "../ids.ts";

/** A node execution planned for the superstep that follows a checkpoint. */
export interface PlannedTask {
  /** Deterministic: the same checkpoint always plans the same ids. */
  id: string;
  name: string;
  kind: "pull" | "push";
  /** Channels that triggered a pull task (joins it consumes). */
  triggers: readonly string[];
  /** A push task's own input (the `Send` argument). */
  arg?: unknown;
  /** A push task's own timeout (its Send's), in place of its node's. */
  timeout?: TimeoutPolicy;
}

/**
 * The nodes whose pull tasks wait, of those `triggered`: LangGraph's deferred nodes (`addNode(…,
 * { defer: true })`) run only in a superstep no other node's pull task would run in; all of them
 * then run together. A `Send` to a deferred node is never held, and does not hold one back.
 */
export function waitingNodes(
  triggered: readonly string[],
  deferred: ReadonlySet<string> | undefined,
): Set<string> {
  if (deferred === undefined || triggered.every((node) => deferred.has(node))) return new Set();
  return new Set(triggered.filter((node) => deferred.has(node)));
}

/** The trigger channels of `checkpoint`'s waiting deferred nodes: the next checkpoint keeps them available. */
export function waitingTriggers(spec: GraphSpec, checkpoint: Checkpoint): string[] {
  const deferred = spec.deferred;
  if (deferred === undefined) return [];
  const updated = new Set(checkpoint.updatedChannels);
  const fired = [...spec.triggers].filter(([, channels]) => channels.some((channel) => updated.has(channel)));
  const waiting = waitingNodes(
    fired.map(([node]) => node),
    deferred,
  );
  return fired
    .filter(([node]) => waiting.has(node))
    .flatMap(([, channels]) => channels.filter((c) => updated.has(c)));
}

/** `available` (the channels a superstep made available), and the triggers of the deferred nodes still waiting after it. */
export function withWaiting(spec: GraphSpec, checkpoint: Checkpoint, available: string[]): string[] {
  if (spec.deferred === undefined) return available;
  return [...new Set([...available, ...waitingTriggers(spec, checkpoint)])];
}

/**
 * Plans the next superstep from a checkpoint, without I/O, in LangGraph's order: a push task
 * for every pending `Send` (in send order), then a pull task for every node one of whose trigger
 * channels became available in the last step (in node order; a deferred node's only when no
 * other node's is, see waitingNodes). Task ids derive from `seed`: the checkpoint's id, or the
 * seed its metadata carries (see `taskSeed`).
 */
export function planTasks(
  spec: GraphSpec,
  checkpoint: Checkpoint,
  ns: string,
  seed = checkpoint.id,
): PlannedTask[] {
  const pull: PlannedTask[] = [];
  if (checkpoint.updatedChannels.length > 0) {
    const updated = new Set(checkpoint.updatedChannels);
    for (const [node, channels] of spec.triggers) {
      const fired = channels.filter((channel) => updated.has(channel));
      if (fired.length === 0) continue;
      pull.push({ id: deterministicId(seed, ns, "pull", node), name: node, kind: "pull", triggers: fired });
    }
  }
  const waiting = waitingNodes(
    pull.map((task) => task.name),
    spec.deferred,
  );
  // As LangGraph's: the pending sends' push tasks first, then the pull tasks (writes still fold
  // pull tasks first: see inWriteOrder).
  const push = checkpoint.pendingSends.map(
    (send, index): PlannedTask => ({
      id: deterministicId(seed, ns, "push", send.node, index),
      name: send.node,
      kind: "push",
      triggers: [],
      arg: send.arg,
      ...(send.timeout === undefined ? {} : { timeout: send.timeout }),
    }),
  );
  return [...push, ...(waiting.size === 0 ? pull : pull.filter((task) => !waiting.has(task.name)))];
}

/**
 * The tasks `planTasks` plans from `checkpoint`, worked out without the graph (a producer that
 * lacks its code): the pending sends, then a pull task for each node a channel that became
 * available triggers, in `nodeOrder` (the graph's node order, as planTasks) or else in the
 * order they became available. The same ids; the seed is `metadata.task_seed` when the
 * checkpoint carries one.
 */
export function tasksOfCheckpoint(
  checkpoint: Checkpoint,
  metadata: object | undefined,
  ns = "",
  nodeOrder: readonly string[] = [],
  deferred?: ReadonlySet<string>,
): Array<{ id: string; name: string }> {
  const given = (metadata as { task_seed?: unknown } | undefined)?.task_seed;
  const seed = typeof given === "string" ? given : checkpoint.id;
  const nodes = new Set<string>();
  for (const channel of checkpoint.updatedChannels) {
    const node = triggeredNode(channel);
    if (node !== undefined) nodes.add(node);
  }
  for (const node of waitingNodes([...nodes], deferred)) nodes.delete(node);
  const rank = (node: string) => {
    const at = nodeOrder.indexOf(node);
    return at === -1 ? nodeOrder.length : at;
  };
  return [
    ...checkpoint.pendingSends.map((send, index) => ({
      id: deterministicId(seed, ns, "push", send.node, index),
      name: send.node,
    })),
    ...[...nodes]
      .sort((a, b) => rank(a) - rank(b))
      .map((node) => ({ id: deterministicId(seed, ns, "pull", node), name: node })),
  ];
}

/**
 * The nodes `checkpoint` plans that `spec` lacks: a checkpoint another version of the graph wrote
 * (a deploy renamed or removed the node a thread waits in, or changed the edges into a join).
 * Its trigger and join channels the graph does not have, and its sends to nodes it does not
 * have, by the node they start; empty for every checkpoint the graph itself writes.
 */
export function unknownPlannedNodes(
  spec: GraphSpec,
  checkpoint: Checkpoint,
  pendingWrites: readonly { channel: string }[] = [],
): string[] {
  const missing = new Set<string>();
  const check = (channel: string) => {
    const node = triggeredNode(channel);
    if (node !== undefined && !spec.channels.has(channel)) missing.add(node);
  };
  for (const channel of checkpoint.updatedChannels) check(channel);
  // A finished task's pending write to a join of edges this version lacks (its sibling paused)
  // counts as the join's target, as one the checkpoint updated does.
  for (const write of pendingWrites) check(write.channel);
  for (const send of checkpoint.pendingSends) if (!spec.nodes.has(send.node)) missing.add(send.node);
  return [...missing];
}

/**
 * `items` (one per task of `tasks`, in plan order) in the order a superstep's writes fold, as
 * LangGraph.js sorts them by task path: pull tasks by node name (code points), then push tasks
 * in send order. Reducers that append (a message list) show it; the plan keeps node order.
 */
export function inWriteOrder<T>(tasks: readonly PlannedTask[], items: readonly T[]): readonly T[] {
  const rank = (i: number) => tasks[i] as PlannedTask;
  const before = (i: number, j: number) => {
    const a = rank(i);
    const b = rank(j);
    if (a.kind !== b.kind) return a.kind === "pull" ? -1 : 1;
    return a.kind === "pull" ? byCodePoint(a.name, b.name) : i - j;
  };
  // Most supersteps run one task, or tasks already in that order: nothing to sort.
  if (tasks.every((_, i) => i === 0 || before(i - 1, i) <= 0)) return items;
  const order = tasks.map((_, i) => i);
  order.sort(before);
  return order.map((i) => items[i] as T);
}

/** Python's (and LangGraph.js's) string order: by code point, not by UTF-16 unit. */
function byCodePoint(a: string, b: string): number {
  const x = [...a];
  const y = [...b];
  for (let i = 0; i < Math.min(x.length, y.length); i++) {
    const diff = (x[i]?.codePointAt(0) ?? 0) - (y[i]?.codePointAt(0) ?? 0);
    if (diff !== 0) return diff;
  }
  return x.length - y.length;
}
