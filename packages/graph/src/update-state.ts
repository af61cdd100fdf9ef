// `updateState`: values applied as if a node returned them, committed as a new checkpoint, with
// what the paused superstep at the head already finished kept.
import { applyWrites, type ChannelState, type Write } from "./algo/apply-writes.ts";
import { breakpointAhead } from "./algo/breakpoints.ts";
import { edgeWrites, gotoWrites } from "./algo/node-writes.ts";
import { readPendingWrites } from "./algo/pending.ts";
import { inWriteOrder, type PlannedTask } from "./algo/plan.ts";
import { Command, gotoList, isCommand } from "./command.ts";
import { START } from "./constants.ts";
import { passBreakpoint } from "./continue-run.ts";
import { checkedStateWrites, commitWrites, type NewCheckpoint } from "./entry.ts";
import { InvalidInputError, InvalidUpdateError } from "./errors.ts";
import type { LoadedHead } from "./head.ts";
import { routerConfig } from "./router-config.ts";
import { plannedTasks, type StepEnv } from "./step.ts";

/** The head's pending writes and the superstep it plans, read once for the update. */
interface Paused {
  pending: ReturnType<typeof readPendingWrites>;
  tasks: PlannedTask[];
}

/**
 * The node an update without `asNode` counts as: the one that wrote last. Tasks that finished
 * beside a pause wrote after the head's own superstep (LangGraph counts them, too); counting
 * the head's writer instead would route from it and run them again.
 */
function inferAsNode(env: StepEnv, head: LoadedHead | undefined, paused: Paused | undefined): string {
  if (head === undefined || paused === undefined) return START;
  const { done } = paused.pending;
  const finished = new Set(paused.tasks.flatMap((task) => (done.has(task.id) ? [task.name] : [])));
  if (finished.size > 0) return onlyWriter([...finished]);
  if (head.metadata.source === "input") return START;
  return onlyWriter(Object.keys(head.metadata.writes ?? {}).filter((name) => env.spec.nodes.has(name)));
}

function onlyWriter(writers: string[]): string {
  if (writers.length === 1) return writers[0] as string;
  throw new InvalidUpdateError(
    `Cannot tell which node this update should count as (${writers.length ? writers.join(", ") : "no node"} wrote last). ` +
      "Pass it explicitly: updateState(config, values, asNode).",
  );
}

/** `updateState`: applies values as if `asNode` returned them, and commits a new checkpoint (a fork when not at the head). */
export async function updateThreadState(
  env: StepEnv,
  head: LoadedHead | undefined,
  values: unknown,
  asNode?: string,
) {
  if (env.key.ns !== "")
    throw new InvalidUpdateError(
      `updateState on a subgraph's checkpoint_ns ("${env.key.ns}") is not supported: update the parent's state, or resume. Nothing was written.`,
    );
  const paused = head && { pending: readPendingWrites(head.pendingWrites), tasks: plannedTasks(env, head) };
  const source = head && head.expectedHead !== head.checkpoint.id ? "fork" : "update";
  if (values == null && asNode === undefined) {
    // No values and no node (LangGraph: an empty checkpoint): the thread as it was, a step on.
    const kept = head && paused && source === "update" ? pausedSuperstep(env, head, paused) : {};
    return commitWrites(env, head, { source, writes: [], metadataWrites: {}, ...kept });
  }
  // An entrypoint's update is what its only node returned, as LangGraph's (START is not one of its nodes).
  const { root } = env.spec;
  const node = asNode ?? (root ? ([...env.spec.nodes.keys()][0] as string) : inferAsNode(env, head, paused));
  if ((node !== START || root) && !env.spec.nodes.has(node)) {
    throw new InvalidUpdateError(`updateState: "${node}" is not a node of graph "${env.spec.name}".`);
  }
  const writes = updateWrites(env, node, values);
  const kept = head && paused && source === "update" ? pausedSuperstep(env, head, paused, node) : {};
  // The update's node routes on the state with what the paused superstep finished.
  const routed: ChannelState =
    kept.settled ??
    (head
      ? { values: head.checkpoint.channelValues, versions: head.checkpoint.channelVersions }
      : { values: {}, versions: {} });
  const config = routerConfig(env, node, head ? head.metadata.step + 1 : 0);
  writes.push(...(await edgeWrites(env.spec, node, routed.values, routed.versions, writes, config)));
  // A Command's update is what the node wrote (its goto routes; it is not state).
  const written = isCommand(values) ? (values.update ?? null) : values;
  return commitWrites(env, head, { source, writes, metadataWrites: { [node]: written }, ...kept });
}

/**
 * The writes of an update standing for `node`: the state keys it gives, a Command's update and
 * `goto` (a trigger per node, a task per Send, as the node returning it would make), nothing for
 * no values (the node ran and wrote nothing: the "skip this node" of a breakpoint, as
 * LangGraph's), or an entrypoint's value.
 */
function updateWrites(env: StepEnv, node: string, values: unknown): Write[] {
  const { root } = env.spec;
  if (root && isCommand(values))
    throw new InvalidUpdateError(
      `updateState on entrypoint "${env.spec.name}" takes its value (or entrypoint.final({ value, save })), not a Command. Nothing was written.`,
    );
  if (root) return Object.entries(root.writes(values));
  if (values == null) return [];
  if (!isCommand(values)) return checkedStateWrites(env.spec, values, "updateState values");
  if (values.graph === Command.PARENT)
    throw new InvalidUpdateError(
      "updateState takes no Command for the parent graph (graph: Command.PARENT): update the parent's own thread. Nothing was written.",
    );
  const writes = checkedStateWrites(env.spec, values.update ?? {}, "updateState values");
  return [...writes, ...gotoWrites(env.spec, node, gotoList(values.goto))];
}

/**
 * What an update keeps of the superstep its head plans: the writes of the tasks that finished
 * before it paused (not run again), as LangGraph's updateState applies them, and the tasks that
 * did not, except the one the update stands for (`asNode`; none for an empty update), planned
 * again — so an edit never drops a question the thread waits on, however many edits come before
 * the answer; but a node's error handler's (the node would run again to ask it).
 */
function pausedSuperstep(
  env: StepEnv,
  head: LoadedHead,
  { pending, tasks }: Paused,
  asNode?: string,
): Pick<NewCheckpoint, "settled" | "carry"> {
  const writes: Write[][] = pending.input.length > 0 ? [pending.input] : [];
  const consumed: string[] = [];
  for (const task of inWriteOrder(tasks, tasks)) {
    const done = pending.done.get(task.id);
    // A failed task its error handler ran for is settled, its handler's question or not: an
    // edit must not run the node again (a charge that failed), as LangGraph's updateState.
    if (done === undefined && !pending.handled.has(task.id)) continue;
    if (done !== undefined) writes.push(done);
    consumed.push(...task.triggers);
  }
  // Tasks a superstep stopped in front of at a static breakpoint asked nothing: the update
  // replaces them all, as in LangGraph (what runs next is what the update's node routes to). An
  // earlier edit's head is not such a stop: the tasks it carried may have asked (kept, as above).
  // An update of no node (an empty one) replaces none of them.
  const stopped =
    asNode !== undefined &&
    head.metadata.source !== "update" &&
    !pending.breakpointPassed &&
    breakpointAhead(env, head.metadata, tasks);
  const carry = stopped
    ? []
    : tasks.filter(
        (task) => !pending.done.has(task.id) && !pending.handled.has(task.id) && task.name !== asNode,
      );
  if (writes.length === 0 && consumed.length === 0) return { carry };
  const base = { values: head.checkpoint.channelValues, versions: head.checkpoint.channelVersions };
  return { settled: applyWrites(env.spec, base, writes, consumed, head.versionFloor), carry };
}

/**
 * `updateState(config, values, asNode)` then `invoke(null, config)` on the head: the edit counts
 * as `asNode`'s output (its edges plan what runs next; a task of `asNode` waiting at a breakpoint
 * is dropped), and the run goes on past a static breakpoint in front of what the update plans,
 * as LangGraph's do (`updateState(…, "tools")` at `interruptBefore: ["tools"]` skips the tools).
 */
export async function updateThenContinue(
  env: StepEnv,
  head: LoadedHead | undefined,
  values: unknown,
  asNode: string,
): Promise<LoadedHead> {
  if (head === undefined) {
    throw new InvalidInputError(
      `Thread "${env.key.threadId}" has no checkpoint to update: start it with an input.`,
    );
  }
  return passBreakpoint(env, await updateThreadState(env, head, values, asNode));
}
