import type { CheckpointMetadata } from "@layover/checkpoint";
import { readState } from "./algo/apply-writes.ts";
import { type PendingState, readPendingWrites, unresolvedInterrupts } from "./algo/pending.ts";
import { inWriteOrder, type PlannedTask } from "./algo/plan.ts";
import { baseState } from "./base-state.ts";
import { CheckpointNotFoundError, InvalidInputError } from "./errors.ts";
import type { RunnableConfig } from "./graph/environment.ts";
import { rootView } from "./graph/state-views.ts";
import { headFromTuple, type LoadedHead } from "./head.ts";
import type { Interrupt } from "./interrupt.ts";
import { type WaitingTask, waitingOf } from "./pause.ts";
import { plannedTasks, type StepEnv, stateWithFinished } from "./step.ts";
import { withUntrackedDefaults } from "./untracked.ts";

export interface SnapshotTask {
  id: string;
  name: string;
  /** Interrupts of this task still waiting for an answer. */
  interrupts: Interrupt[];
  /** The error the task failed with, when its last attempt failed. */
  error?: unknown;
  /**
   * What the task wrote: its update (an entrypoint's, its value), when it finished but its
   * superstep has not committed yet, and in history, from the superstep that followed.
   */
  result?: unknown;
  /**
   * A subgraph node's task: where its subgraph's state is (`{ configurable: { thread_id,
   * checkpoint_ns } }`), or with `getState(config, { subgraphs: true })` that state, a snapshot.
   */
  state?: RunnableConfig | StateSnapshot;
}

/** A thread at one checkpoint, as `getState` and `getStateHistory` return it. */
export interface StateSnapshot<S = Record<string, unknown>> {
  values: S;
  /** Nodes that run in the next superstep (those not already finished). */
  next: string[];
  tasks: SnapshotTask[];
  config: RunnableConfig;
  parentConfig: RunnableConfig | undefined;
  metadata: CheckpointMetadata | undefined;
  createdAt: string | undefined;
}

function checkpointConfig(env: StepEnv, checkpointId: string): RunnableConfig {
  return {
    configurable: { thread_id: env.key.threadId, checkpoint_ns: env.key.ns, checkpoint_id: checkpointId },
  };
}

export function emptySnapshot(env: StepEnv): StateSnapshot {
  return {
    values: {},
    next: [],
    tasks: [],
    config: { configurable: { thread_id: env.key.threadId, checkpoint_ns: env.key.ns } },
    parentConfig: undefined,
    metadata: undefined,
    createdAt: undefined,
  };
}

/** The namespace of the subgraph a subgraph node's task runs (its first call: a node runs its subgraph once). */
function subgraphNs(env: StepEnv, node: string, taskId: string): string {
  return env.key.ns === "" ? `${node}:${taskId}` : `${env.key.ns}|${node}:${taskId}`;
}

/**
 * `snapshot` with each subgraph node's task's `state` the subgraph's snapshot (its own subgraphs'
 * too), as LangGraph's `getState(config, { subgraphs: true })`; a subgraph that has not started
 * keeps where its state would be.
 */
export async function withSubgraphStates(env: StepEnv, snapshot: StateSnapshot): Promise<StateSnapshot> {
  const tasks = await Promise.all(
    snapshot.tasks.map(async (task) => {
      const subgraph = env.spec.nodes.get(task.name)?.subgraph;
      if (subgraph === undefined || subgraph.checkpointer === false || task.state === undefined) return task;
      const saver = env.subgraphsShareSaver ? env.saver : (subgraph.checkpointer ?? env.saver);
      const state = (await subgraph
        .withCheckpointer(saver)
        .getState(task.state as never, { subgraphs: true, atNamespace: true })) as StateSnapshot;
      return state.createdAt === undefined ? task : { ...task, state };
    }),
  );
  return { ...snapshot, tasks };
}

/** getState's snapshot of `env`'s thread at its head, or at `checkpointId`; with `subgraphs`, their states in their tasks. */
export async function stateSnapshot(
  env: StepEnv,
  checkpointId: string | undefined,
  subgraphs: boolean,
): Promise<StateSnapshot> {
  const tuple = await env.saver.getTuple({ ...env.key, checkpointId });
  if (tuple === undefined) {
    if (checkpointId !== undefined) throw new CheckpointNotFoundError(env.key.threadId, checkpointId);
    return emptySnapshot(env);
  }
  const snapshot = snapshotOf(env, headFromTuple(tuple), checkpointId === undefined);
  return subgraphs ? withSubgraphStates(env, snapshot) : snapshot;
}

/** The tasks of `head` still waiting for an answer, each with its unanswered interrupts. */
export function waitingTasks(env: StepEnv, head: LoadedHead): WaitingTask[] {
  return waitingOf(plannedTasks(env, head), readPendingWrites(head.pendingWrites));
}

/**
 * `head` as a snapshot. With `current` (getState of the thread's head, as LangGraph's), values
 * include what was recorded beside the checkpoint before its superstep completed: an input given
 * with a resume, and the writes of tasks that finished while others paused or failed. History
 * shows each checkpoint as stored.
 */
export function snapshotOf(env: StepEnv, head: LoadedHead, current = false): StateSnapshot {
  const tasks = plannedTasks(env, head);
  const pending = readPendingWrites(head.pendingWrites);
  const snapshotTasks = tasks.map((task): SnapshotTask => {
    const info: SnapshotTask = {
      id: task.id,
      name: task.name,
      interrupts: unresolvedInterrupts([task], pending),
    };
    const error = pending.errors.get(task.id);
    if (error !== undefined) info.error = error;
    const done = pending.done.get(task.id);
    if (done !== undefined) {
      info.result = Object.fromEntries(done.filter(([channel]) => env.spec.state.fields.has(channel)));
    }
    if (env.spec.nodes.get(task.name)?.subgraph !== undefined)
      info.state = {
        configurable: { thread_id: env.key.threadId, checkpoint_ns: subgraphNs(env, task.name, task.id) },
      };
    return info;
  });
  return {
    values: rootView(
      env.spec,
      (current && currentValues(env, head, tasks, pending)) ||
        readState(env.spec, withUntrackedDefaults(env.spec, head.checkpoint.channelValues)),
    ) as Record<string, unknown>, // a root graph's (an entrypoint's) value is what its type says
    next: tasks.filter((task) => !pending.done.has(task.id)).map((task) => task.name),
    tasks: snapshotTasks,
    config: checkpointConfig(env, head.checkpoint.id),
    parentConfig: head.parentId === null ? undefined : checkpointConfig(env, head.parentId),
    metadata: head.metadata,
    createdAt: head.checkpoint.ts,
  };
}

/**
 * The head's values with its recorded input and its finished tasks' writes, in write order
 * (as the superstep's commit applies them); undefined when there are none.
 */
function currentValues(env: StepEnv, head: LoadedHead, tasks: readonly PlannedTask[], pending: PendingState) {
  const done = inWriteOrder(tasks, tasks).flatMap((task) => {
    const writes = pending.done.get(task.id);
    return writes === undefined ? [] : [writes];
  });
  if (done.length === 0 && pending.input.length === 0) return undefined;
  const base = baseState(env, head, pending);
  return stateWithFinished(env, base, done) ?? readState(env.spec, base.values);
}

/**
 * `snapshot` with each task's result from the superstep that followed its checkpoint (`writes`:
 * that checkpoint's metadata.writes, by node; several tasks of one node, a list in the order
 * their writes fold: see metadataWrites), as LangGraph's history shows what each step did.
 * `planned`: the snapshot's tasks as planned (one for one). Tasks that wrote nothing keep none.
 */
function withResults(
  snapshot: StateSnapshot,
  writes: Readonly<Record<string, unknown>>,
  planned: readonly PlannedTask[],
): StateSnapshot {
  const count = new Map<string, number>();
  for (const task of snapshot.tasks) count.set(task.name, (count.get(task.name) ?? 0) + 1);
  const taken = new Map<string, number>();
  const tasks = [...snapshot.tasks];
  for (const i of inWriteOrder(
    planned,
    planned.map((_, i) => i),
  )) {
    const task = tasks[i] as SnapshotTask;
    if (task.result !== undefined || !Object.hasOwn(writes, task.name)) continue;
    const written = writes[task.name];
    const at = taken.get(task.name) ?? 0;
    taken.set(task.name, at + 1);
    const result = (count.get(task.name) ?? 0) > 1 && Array.isArray(written) ? written[at] : written;
    if (result !== null && result !== undefined) tasks[i] = { ...task, result };
  }
  return { ...snapshot, tasks };
}

/**
 * Every checkpoint of the thread as a snapshot, newest first, each task with its result: a
 * checkpoint's superstep (what its tasks wrote) is in its child's metadata, seen before it.
 */
export async function* history(
  env: StepEnv,
  options: { limit?: number; before?: RunnableConfig; filter?: Record<string, unknown> },
): AsyncIterableIterator<StateSnapshot> {
  const { limit } = options;
  if (limit !== undefined && (typeof limit !== "number" || !Number.isSafeInteger(limit) || limit < 1))
    throw new InvalidInputError(
      `getStateHistory's limit is a whole number of at least 1; got ${String(limit)}.`,
    );
  const followed = new Map<string, Record<string, unknown>>();
  const before = options.before?.configurable?.checkpoint_id as string | undefined;
  for await (const tuple of env.saver.list(env.key, {
    limit: options.limit,
    before,
    filter: options.filter,
  })) {
    const { parentId, metadata } = tuple;
    if (parentId !== null && metadata.source === "loop" && !followed.has(parentId))
      followed.set(parentId, (metadata.writes ?? {}) as Record<string, unknown>);
    const head = headFromTuple(tuple);
    const snapshot = snapshotOf(env, head);
    const writes = followed.get(tuple.checkpoint.id);
    yield writes === undefined ? snapshot : withResults(snapshot, writes, plannedTasks(env, head));
  }
}
