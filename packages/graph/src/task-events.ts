// What a superstep's tasks (and the `task()` calls they make) report to the run's stream as they
// start and finish: "updates" chunks and the "tasks"/"debug" task events.
import type { Write } from "./algo/apply-writes.ts";
import type { PendingState } from "./algo/pending.ts";
import type { PlannedTask } from "./algo/plan.ts";
import { SUBGRAPH_INPUT, TASK_SEED } from "./commit.ts";
import type { CallScope } from "./func/call-scope.ts";
import { returnedBy } from "./func/call-scope.ts";
import type { Interrupt } from "./interrupt.ts";
import type { Outcome } from "./outcome.ts";
import type { StepEnv } from "./step-env.ts";
import { pushEvent, wantsEvent } from "./stream.ts";
import { leaving, shownValues } from "./stream-view.ts";
import { triggersOf } from "./task-setup.ts";

/**
 * A finished task's update: the state keys it wrote (null: none); as LangGraph's, a list of
 * one-key updates in the order written when it wrote a key more than once (a message it pushed
 * and its return, a list of Commands); a `task()` call's result; an entrypoint's value (what it
 * returned).
 */
export function taskUpdate(env: StepEnv, writes: readonly Write[]): unknown {
  const returned = returnedBy(writes);
  if (returned !== undefined) return returned.value;
  const root = env.spec.root;
  if (root !== undefined) return writes.find(([channel]) => channel === root.output)?.[1] ?? null;
  const written = writes.filter(([channel]) => env.spec.state.fields.has(channel));
  if (written.length === 0) return null;
  if (new Set(written.map(([channel]) => channel)).size < written.length)
    return written.map(([channel, value]) => ({ [channel]: value }));
  return Object.fromEntries(written);
}

/** A finished task's update as the stream shows it (a call's or an entrypoint's value as it is). */
function shownUpdate(env: StepEnv, writes: readonly Write[]): unknown {
  const update = taskUpdate(env, writes);
  if (env.spec.root !== undefined || returnedBy(writes) !== undefined) return update;
  if (Array.isArray(update)) return update.map((one) => shownValues(env, one));
  return shownValues(env, (update as Record<string, unknown> | null) ?? {});
}

/** Where a finished call's task_result event keeps the call's value (not enumerable: no stream shows it). */
export const CALL_VALUE = Symbol("call value");

/**
 * Marks a task event's start of a task that finished before a resume (not enumerable: no stream
 * shows it): it does not run again, so streamEvents gives it no chain start, as LangGraph's.
 */
export const REPLAYED = Symbol("replayed");

/** Streams a task's update and result as soon as it finishes (as LangGraph: not at the superstep's end). */
export function emitTaskResult(env: StepEnv, step: number, task: PlannedTask, outcome: Outcome): Outcome {
  const emit = env.emit;
  if (emit === undefined || outcome.cached || outcome.hit) return outcome;
  emitUpdate(env, task, outcome);
  if (wantsEvent(emit, "task_result")) {
    const update = outcome.kind === "done" ? resultOf(env, outcome.writes) : {};
    const payload = {
      id: task.id,
      name: task.name,
      error: outcome.kind === "failed" ? errorRecord(outcome.error) : null,
      interrupts: interruptsOf(outcome),
      result: update,
    };
    // A call's value, which its result (as LangGraph's) leaves out: streamEvents ends its chain with it.
    const returned = outcome.kind === "done" ? returnedBy(outcome.writes) : undefined;
    if (returned !== undefined) Object.defineProperty(payload, CALL_VALUE, { value: returned.value });
    pushEvent(emit, "task_result", step, payload);
  }
  return outcome;
}

/**
 * A finished task's result in "tasks" and "debug", as LangGraph.js's: its update to state keys;
 * an entrypoint's, its value under its channel; a `task()` call's, nothing (its result is not
 * written to the state).
 */
function resultOf(env: StepEnv, writes: readonly Write[]): unknown {
  if (returnedBy(writes) !== undefined) return {};
  const root = env.spec.root;
  if (root !== undefined) return { [root.output]: taskUpdate(env, writes) };
  return leaving(env, taskUpdate(env, writes) ?? {});
}

/** Streams a task's start in "tasks" and "debug", with its input and its run's metadata. */
export function emitTaskStart(
  env: StepEnv,
  step: number,
  task: PlannedTask,
  input: unknown,
  replayed = false,
): void {
  if (!wantsEvent(env.emit, "task")) return;
  const payload = {
    id: task.id,
    name: task.name,
    input: leaving(env, input),
    triggers: triggersOf(task),
    interrupts: [],
    metadata: taskMetadata(env),
  };
  if (replayed) Object.defineProperty(payload, REPLAYED, { value: true });
  pushEvent(env.emit, "task", step, payload);
}

/**
 * The keys of a node's metadata a task event leaves out, as LangGraph's (its own fields say them),
 * and the engine's own checkpoint metadata (a subgraph call's input, a held checkpoint's seed).
 */
const FRAMEWORK_KEYS = new Set([
  SUBGRAPH_INPUT,
  TASK_SEED,
  "thread_id",
  "checkpoint_id",
  "checkpoint_ns",
  "checkpoint_map",
  "langgraph_step",
  "langgraph_node",
  "langgraph_triggers",
  "langgraph_path",
  "langgraph_checkpoint_ns",
  "langgraph_task_id",
]);

/** A task event's metadata, as LangGraph's: the caller's metadata and tags, under `ls_integration`. */
function taskMetadata(env: StepEnv): Record<string, unknown> {
  const metadata: Record<string, unknown> = { ls_integration: "langgraph" };
  for (const [key, value] of Object.entries(env.metadata ?? {}))
    if (!FRAMEWORK_KEYS.has(key)) metadata[key] = value;
  const tags = env.tags.filter((tag) => !tag.startsWith("seq:step"));
  if (tags.length > 0) metadata.tags = tags;
  return metadata;
}

/**
 * A task's chunk in "updates", as LangGraph.js streams them: its update, or its interrupts (one
 * chunk per task that paused, in "values" too, as it pauses); a task that had finished before a
 * resume is replayed, marked cached, before the tasks that run.
 */
export function emitUpdate(env: StepEnv, task: PlannedTask, outcome: Outcome): void {
  const emit = env.emit;
  if (emit === undefined) return;
  if (outcome.kind === "interrupted") {
    if (emit.modes.has("updates")) emit.push("updates", { __interrupt__: outcome.interrupts });
    if (emit.modes.has("values")) emit.push("values", { __interrupt__: outcome.interrupts });
  } else if (outcome.kind === "done" && emit.modes.has("updates")) {
    const update = { [task.name]: shownUpdate(env, outcome.writes) };
    const marked = outcome.cached === true || outcome.hit === true;
    emit.push("updates", marked ? { __metadata__: { cached: true }, ...update } : update);
  }
}

/**
 * What the calls of a superstep's tasks report, as LangGraph.js's: as its tasks do, but a call
 * that paused reports nothing (the task it was made under reports the pause), and a result given
 * back is a finished task's "updates" chunk, marked cached, after its start.
 */
export function callEvents(env: StepEnv, step: number): Pick<CallScope, "started" | "ended"> {
  if (env.emit === undefined) return {};
  return {
    started: (call, notRun) => {
      if (notRun) env.emit?.hit?.(call.id);
      emitTaskStart(env, step, call, call.arg);
    },
    ended: (call, outcome) => {
      if (outcome.kind === "interrupted") return;
      if (!outcome.cached && !outcome.hit) emitTaskResult(env, step, call, outcome);
      else if (env.emit?.modes.has("updates")) emitUpdate(env, call, outcome);
    },
  };
}

/** A failed task's error as the task events carry it, as LangGraph's: its message and class name. */
function errorRecord(error: unknown): { message: string; name: string } {
  return error instanceof Error
    ? { message: error.message, name: error.name }
    : { message: String(error), name: "Error" };
}

export function interruptsOf(outcome: Outcome): Interrupt[] {
  return outcome.kind === "interrupted" ? outcome.interrupts : [];
}

/**
 * As LangGraph's: every task of the superstep reports its start before any node runs, one that
 * finished before a resume too (with no result: its update was replayed); a failed task's
 * handler that runs again reports its own (runHandledAgain).
 */
export function emitStarts(
  env: StepEnv,
  step: number,
  tasks: readonly PlannedTask[],
  pending: PendingState,
  hits: ReadonlyMap<string, unknown>,
  inputOf: (task: PlannedTask) => unknown,
): void {
  if (env.emit === undefined) return;
  const wanted = wantsEvent(env.emit, "task");
  for (const task of tasks) {
    if (pending.handled.has(task.id) && !pending.done.has(task.id)) continue;
    if (hits.has(task.id)) env.emit.hit?.(task.id);
    if (wanted) emitTaskStart(env, step, task, inputOf(task), pending.done.has(task.id));
  }
}

/**
 * A task left waiting for its answers by a resume that gave others': it streams as LangGraph's,
 * which runs it again to ask again, its pause and its result.
 */
export function emitWaiting(env: StepEnv, step: number, task: PlannedTask, waiting: Outcome): void {
  emitTaskResult(env, step, task, { ...waiting, cached: false });
}
