import { type CheckpointMetadata, newCheckpointId } from "@layover/checkpoint";
import { applyWrites, type ChannelState, readState, type Write } from "./algo/apply-writes.ts";
import { breakpointAhead, matchesBreakpoint } from "./algo/breakpoints.ts";
import { type PendingState, readPendingWrites, taskNeedsRun } from "./algo/pending.ts";
import { inWriteOrder, type PlannedTask, planTasks, unknownPlannedNodes, withWaiting } from "./algo/plan.ts";
import { type BaseState, baseState } from "./base-state.ts";
import { holds, holdsAsync, nextHead, storeHead, TASK_SEED, taskSeed, unappliable } from "./commit.ts";
import { NULL_RESUME, NULL_RESUME_TAKEN, RESUME, RETURN, SPECIAL_WRITE_IDX } from "./constants.ts";
import { MissingNodeError } from "./errors.ts";
import { type CallScope, callBatches, callScope, settleCalls } from "./func/call-scope.ts";
import type { GraphSpec } from "./graph/spec.ts";
import { viewOf } from "./graph/state-views.ts";
import type { LoadedHead, WriteBatch } from "./head.ts";
import { deterministicId } from "./ids.ts";
import type { UnaskedResume } from "./interrupt.ts";
import { lookUpCached } from "./node-cache.ts";
import type { Outcome } from "./outcome.ts";
import { partialBatches } from "./pause.ts";
import { cacheHit, finishedBefore, runHandledAgain, runPlanned } from "./planned-run.ts";
import type { StepEnv, StepResult } from "./step-env.ts";
import { shownValues, writesShown } from "./stream-view.ts";
import {
  callEvents,
  emitStarts,
  emitTaskResult,
  emitUpdate,
  emitWaiting,
  interruptsOf,
  taskUpdate,
} from "./task-events.ts";
import { failedAt, keepPartial, persistPartial, storeHeldPause } from "./uncommitted.ts";

export type { StepEnv, StepResult } from "./step-env.ts";

export function plannedTasks(env: StepEnv, head: LoadedHead): PlannedTask[] {
  head.plan ??= planTasks(env.spec, head.checkpoint, env.key.ns, taskSeed(head));
  return head.plan;
}

/**
 * MissingNodeError when `head` plans nodes the graph cannot run: a checkpoint written by another
 * version of the graph (see unknownPlannedNodes); undefined for the graph's own checkpoints.
 */
export function missingNodes(env: StepEnv, head: LoadedHead): MissingNodeError | undefined {
  const nodes = unknownPlannedNodes(env.spec, head.checkpoint, head.pendingWrites);
  if (nodes.length === 0) return undefined;
  return new MissingNodeError(env.key.threadId, nodes, [...env.spec.nodes.keys()], env.key.ns);
}

/**
 * The resume values a superstep's tasks see: the head's, and a parent task's (a subgraph). A
 * value recorded while nothing was pending is held once, so one interrupt() call takes it; a
 * subgraph shares its parent's holder.
 */
function mergedResume(env: StepEnv, pending: PendingState): ReadonlyMap<string, unknown> {
  let own = pending.resume;
  if (own.has(NULL_RESUME)) {
    own = new Map(own);
    own.delete(NULL_RESUME_TAKEN);
    // Taken in an earlier run: its interrupt has the value by id now, and no one else gets it.
    if (unaskedHeld(pending)) own.set(NULL_RESUME, { value: own.get(NULL_RESUME), takenBy: undefined });
    else own.delete(NULL_RESUME);
  }
  if (env.inheritedResume === undefined || env.inheritedResume.size === 0) return own;
  return new Map([...own, ...env.inheritedResume]);
}

/** True when the head holds a NULL_RESUME value no interrupt() has taken yet. */
function unaskedHeld(pending: PendingState): boolean {
  return pending.resume.has(NULL_RESUME) && !pending.resume.has(NULL_RESUME_TAKEN);
}

/**
 * When a superstep that does not commit (it pauses or fails) took the head's NULL_RESUME value:
 * that interrupt's answer by id, and the note that the value was taken, kept with its pending
 * writes, so a later run gives it to that interrupt only.
 */
function unaskedTaken(pending: PendingState, resume: ReadonlyMap<string, unknown>): WriteBatch[] {
  if (!unaskedHeld(pending)) return [];
  const held = resume.get(NULL_RESUME) as UnaskedResume | undefined;
  if (held?.takenBy === undefined) return [];
  const idx = SPECIAL_WRITE_IDX[RESUME];
  return [
    { taskId: held.takenBy, writes: [[RESUME, held.value, idx]] },
    { taskId: NULL_RESUME_TAKEN, writes: [[RESUME, held.takenBy, idx]] },
  ];
}

/**
 * What a superstep's tasks wrote, by node (a node's several tasks: a list in the order their
 * writes fold, its own task before its Sends in send order, whatever order they were planned in,
 * so history reads checkpoints of either plan order alike).
 */
function metadataWrites(env: StepEnv, tasks: PlannedTask[], outcomes: Outcome[]) {
  const writes: Record<string, unknown> = {};
  for (const i of inWriteOrder(
    tasks,
    tasks.map((_, i) => i),
  )) {
    const outcome = outcomes[i] as Outcome;
    if (outcome.kind !== "done") continue;
    // A failed task's error handler wrote in its place, as LangGraph names it.
    const name = outcome.handledBy?.task.name ?? (tasks[i] as PlannedTask).name;
    const update = taskUpdate(env, outcome.writes);
    if (!(name in writes)) writes[name] = update;
    else
      writes[name] = Array.isArray(writes[name])
        ? [...(writes[name] as unknown[]), update]
        : [writes[name], update];
  }
  return writes;
}

/**
 * What a node is given: the state's keys it sees (its own input schema's, else the state
 * schema's); a root graph's (an entrypoint's) node, its input's value.
 */
function nodeInput(spec: GraphSpec, node: string, state: Record<string, unknown>): unknown {
  if (spec.root !== undefined) return state[spec.root.input];
  const keys = spec.nodes.get(node)?.inputKeys ?? spec.nodeKeys;
  return keys === undefined ? { ...state } : viewOf(state, keys);
}

/** Streams, marked cached, the updates of tasks that finished before the superstep ran again (as LangGraph.js: first). */
function replayFinished(env: StepEnv, tasks: readonly PlannedTask[], pending: PendingState): void {
  if (!env.emit?.modes.has("updates")) return;
  for (const task of tasks) {
    const writes = pending.done.get(task.id);
    if (writes === undefined) continue;
    const outcome = finishedBefore(env, task, pending, writes);
    emitUpdate(env, outcome.handledBy?.task ?? task, outcome);
  }
}

async function executeTasks(
  env: StepEnv,
  head: LoadedHead,
  tasks: PlannedTask[],
  base: ChannelState,
  pending: PendingState,
  resume: ReadonlyMap<string, unknown>,
  calls: CallScope,
): Promise<Outcome[]> {
  const state = readState(env.spec, base.values);
  const step = head.metadata.step + 1;
  replayFinished(env, tasks, pending);
  const inputOf = (task: PlannedTask) =>
    task.kind === "push" ? task.arg : nodeInput(env.spec, task.name, state);
  const runs = tasks.filter((task) => !pending.done.has(task.id) && taskNeedsRun(task, pending, resume));
  const running = new Set(runs);
  // A task answered after a pause runs: its answers are its own, not a cached input's; a
  // handled failure's handler runs, not the node.
  const looked = lookUpCached(
    env,
    runs.filter((task) => !pending.interrupts.has(task.id) && !pending.handled.has(task.id)),
    inputOf,
  );
  const cached = looked instanceof Promise ? await looked : looked;
  emitStarts(env, step, tasks, pending, cached.hits, inputOf);
  const outcomes = await Promise.all(
    tasks.map((task): Outcome | Promise<Outcome> => {
      const done = pending.done.get(task.id);
      if (done !== undefined) return finishedBefore(env, task, pending, done);
      if (!running.has(task)) {
        const waiting: Outcome = {
          kind: "interrupted",
          interrupts: pending.interrupts.get(task.id) ?? [],
          cached: true,
        };
        emitWaiting(env, step, task, waiting);
        return waiting;
      }
      const input = inputOf(task);
      const run = { head, task, input, base, state, pending, resume, calls };
      if (pending.handled.has(task.id)) return runHandledAgain(env, step, run);
      const hit = cached.hits.get(task.id);
      const failure = cached.failures.get(task.id);
      if (failure !== undefined) return emitTaskResult(env, step, task, { kind: "failed", error: failure });
      if (hit !== undefined) return cacheHit(env, task, hit);
      return runPlanned(env, step, run, cached.keys.get(task.id));
    }),
  );
  const settling = settleCalls(calls, tasks, outcomes);
  if (settling !== undefined) await settling;
  return outcomes;
}

/** The checkpoint the tasks' writes make, as the next head; not stored yet (see commit.ts). */
function commit(env: StepEnv, head: LoadedHead, tasks: PlannedTask[], outcomes: Outcome[], base: BaseState) {
  const groups = inWriteOrder(tasks, outcomes).map((outcome) =>
    outcome.kind === "done" ? outcome.writes : [],
  );
  const applied = applyWrites(
    env.spec,
    base,
    groups,
    tasks.flatMap((task) => task.triggers),
    head.versionFloor,
  );
  const checkpoint = {
    v: 1 as const,
    id: newCheckpointId(),
    ts: new Date().toISOString(),
    channelValues: applied.values,
    channelVersions: applied.versions,
    updatedChannels: withWaiting(env.spec, head.checkpoint, [...base.available, ...applied.available]),
    pendingSends: [...base.sends, ...applied.sends],
  };
  const metadata: CheckpointMetadata = {
    ...env.metadata,
    source: "loop",
    step: head.metadata.step + 1,
    writes: metadataWrites(env, tasks, outcomes),
    // A held checkpoint's id is new on every attempt; the seed of its tasks is not.
    ...(holds(env) ? { [TASK_SEED]: deterministicId(taskSeed(head), "next") } : {}),
  };
  return nextHead(head, checkpoint, metadata, applied, base.changed, holdsAsync(env));
}

/**
 * What follows a committed superstep: the next one, the end, or a static breakpoint (after a
 * node that ran, or an error handler that ran in a failed node's place).
 */
function after(env: StepEnv, tasks: PlannedTask[], outcomes: Outcome[], next: LoadedHead): StepResult {
  const ran = tasks.map((task) => task.name);
  for (const outcome of outcomes) if (outcome.handledBy) ran.push(outcome.handledBy.task.name);
  if (matchesBreakpoint(env.interruptAfter, ran))
    return { status: "interrupted", head: next, interrupts: [] };
  const nextTasks = plannedTasks(env, next);
  if (nextTasks.length === 0) return { status: "done", head: next };
  return { status: "next", head: next, tasks: nextTasks.map((task) => task.name) };
}

/** A head held in memory while the run goes straight on to its next superstep. */
function heldInMemory(env: StepEnv, result: StepResult): boolean {
  if (!holds(env) || result.status !== "next") return false;
  return !breakpointAhead(env, result.head.metadata, plannedTasks(env, result.head));
}

/**
 * The step seam: advances a thread by exactly one superstep from `head` — plan, run the
 * tasks, apply their writes at once, commit one checkpoint with compare-and-set — and says
 * what happened. `invoke()` loops over it; workers call it once per job. Everything it
 * needs is in the checkpoint and its pending writes, never in this process's memory. Under
 * durability "exit" a superstep that another follows is not stored (its head is `deferred`).
 */
export async function runSuperstep(env: StepEnv, head: LoadedHead): Promise<StepResult> {
  // Planned without the nodes it lacks, the superstep would run the rest, or end the run.
  const missing = missingNodes(env, head);
  if (missing !== undefined) return failedAt(env, head, missing);
  const tasks = plannedTasks(env, head);
  if (tasks.length === 0) {
    await storeHead(env, head);
    return { status: "done", head };
  }
  const pending = readPendingWrites(head.pendingWrites);
  if (!pending.breakpointPassed && pending.resume.size === 0 && breakpointAhead(env, head.metadata, tasks)) {
    await storeHead(env, head);
    emitBreakpoint(env);
    return { status: "interrupted", head, interrupts: [] };
  }
  const base = baseState(env, head, pending);
  const resume = mergedResume(env, pending);
  const calls = callScope(pending, {
    ...callEvents(env, head.metadata.step + 1),
    keep: keepCalls(env, head),
    cache: env.cache,
  });
  const outcomes = await executeTasks(env, head, tasks, base, pending, resume, calls);
  const failed = outcomes.find((outcome) => outcome.kind === "failed");
  const interrupts = outcomes.flatMap(interruptsOf);
  if (failed !== undefined || interrupts.length > 0) {
    const partial = [
      ...partialBatches(tasks, outcomes),
      ...callBatches(calls),
      ...unaskedTaken(pending, resume),
    ];
    const held = failed === undefined ? await storeHeldPause(env, head, tasks, partial, interrupts) : false;
    if (held !== true && held !== false) return held;
    const kept = held ? undefined : await keepPartial(env, head, partial);
    if (kept !== undefined) return kept;
    if (failed !== undefined) return { status: "failed", head, error: (failed as { error: unknown }).error };
    const done = doneWrites(inWriteOrder(tasks, outcomes));
    const values = stateWithFinished(env, base, done);
    // As LangGraph's: after each paused task's own { __interrupt__ } chunk, and only the root
    // graph's (a paused subgraph's pause goes up to its parent's).
    if (values !== undefined && env.key.ns === "" && env.emit?.modes.has("values") && writesShown(env, done))
      env.emit.push("values", shownValues(env, values));
    return { status: "interrupted", head, interrupts, ...(values === undefined ? {} : { values }) };
  }
  let result: StepResult;
  try {
    // Writes that cannot be applied together (two values for a single-value key, an unknown
    // channel) or stored (a value JSON cannot hold) fail the superstep as a whole.
    result = after(env, tasks, outcomes, commit(env, head, tasks, outcomes, base));
    if (!heldInMemory(env, result))
      await storeHead(env, result.head, result.status === "done" ? env.storeFinal : undefined);
  } catch (error) {
    if (unappliable(error)) return failedAt(env, head, error);
    throw error;
  }
  // As LangGraph's: after a superstep that wrote a key the stream shows.
  if (env.emit?.modes.has("values") && writesShown(env, doneWrites(outcomes)))
    env.emit.push("values", shownValues(env, readState(env.spec, result.head.checkpoint.channelValues)));
  if (result.status === "interrupted") emitBreakpoint(env); // interruptAfter
  return result;
}

/**
 * How the superstep's `task()` calls keep their results as they finish (see CallScope.keep): as
 * pending writes of `head`, stored first if it is held in memory; blocking the caller under
 * durability "sync". None under "exit" (a pause or failure keeps them) or without a checkpointer.
 */
function keepCalls(env: StepEnv, head: LoadedHead): CallScope["keep"] {
  if (!env.durable || env.durability === "exit") return undefined;
  return {
    blocking: env.durability === "sync",
    store: async (taskId, value) => {
      await storeHead(env, head);
      await persistPartial(env, head, [{ taskId, writes: [[RETURN, value, 0]] }]);
    },
  };
}

/** The writes of the tasks that finished. */
function doneWrites(outcomes: readonly Outcome[]): Write[][] {
  return outcomes.flatMap((outcome) => (outcome.kind === "done" ? [outcome.writes] : []));
}

/**
 * As LangGraph: a static breakpoint is a chunk of its own in "updates" and "values"
 * ({ __interrupt__: [] }); an interrupt() pause streamed its tasks' own chunks (emitUpdate).
 */
function emitBreakpoint(env: StepEnv): void {
  if (env.emit?.modes.has("updates")) env.emit.push("updates", { __interrupt__: [] });
  if (env.emit?.modes.has("values")) env.emit.push("values", { __interrupt__: [] });
}

/**
 * The state with what the tasks that finished beside a pause or a failure wrote (pending writes
 * until the superstep completes), as LangGraph shows it; undefined when they wrote no state key,
 * or their writes only apply with the other tasks' (the superstep's commit will say).
 */
export function stateWithFinished(env: StepEnv, base: ChannelState, writes: readonly Write[][]) {
  if (!writes.some((list) => list.some(([channel]) => env.spec.state.fields.has(channel)))) return undefined;
  try {
    return readState(env.spec, applyWrites(env.spec, base, writes).values);
  } catch {
    return undefined;
  }
}
