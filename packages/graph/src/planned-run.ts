// Running one planned task of a superstep: its node (or the node cache's writes for it), and,
// when the node fails with its retry policy exhausted, its error handler in its place (LangGraph
// 1.7.3's `addNode(…, { errorHandler })`): the handler gets the failed task's input and a
// NodeError, and its writes (a state update, a Command's goto) are the task's, so a saga's
// compensation runs in the same superstep. The node's error, the handler's name and the
// handler's writes or interrupts are kept together (pause.ts), so a superstep that runs again
// (a resume of the handler's question, another worker) runs the handler, not the node.
import type { CacheFullKey } from "@layover/checkpoint";
import type { ChannelState, Write } from "./algo/apply-writes.ts";
import { isParentCommand } from "./algo/node-writes.ts";
import type { PendingState } from "./algo/pending.ts";
import type { PlannedTask } from "./algo/plan.ts";
import { CONFIG_KEY_NODE_ERROR } from "./constants.ts";
import type { TaskContext } from "./context.ts";
import { storedError } from "./error-record.ts";
import { NodeError } from "./errors.ts";
import type { CallScope } from "./func/call-scope.ts";
import type { LoadedHead } from "./head.ts";
import { deterministicId } from "./ids.ts";
import type { Interrupt } from "./interrupt.ts";
import { keepCached } from "./node-cache.ts";
import type { Outcome } from "./outcome.ts";
import { runTask } from "./run-task.ts";
import type { StepEnv } from "./step-env.ts";
import { emitTaskResult, emitTaskStart, emitUpdate } from "./task-events.ts";
import { taskSetup } from "./task-setup.ts";

export interface PlannedRun {
  head: LoadedHead;
  task: PlannedTask;
  input: unknown;
  base: ChannelState;
  state: Record<string, unknown>;
  pending: PendingState;
  resume: ReadonlyMap<string, unknown>;
  calls: CallScope;
}

/** Starts `run`'s task (its node, or its handler as `run.task`) with the interrupts it asked before. */
function startTask(
  env: StepEnv,
  run: PlannedRun,
  asked: readonly Interrupt[] | undefined,
  nodeError?: NodeError,
): { running: Promise<Outcome>; context: TaskContext } {
  const { head, task, input, state } = run;
  const extra = nodeError === undefined ? undefined : { [CONFIG_KEY_NODE_ERROR]: nodeError };
  const { context, config, messages } = taskSetup(env, head, task, run.resume, asked, extra);
  context.input = input;
  if (env.spec.root !== undefined) context.previous = state[env.spec.root.previous];
  context.calls = run.calls;
  const { values, versions } = run.base;
  const running = runTask({ spec: env.spec, task, input, values, versions, context, config, messages });
  return { running, context };
}

/**
 * Runs a planned task; one that finishes without asking anything keeps its writes under
 * `cacheAt`; one that fails, its node's error handler if it has one.
 */
export async function runPlanned(
  env: StepEnv,
  step: number,
  run: PlannedRun,
  cacheAt: CacheFullKey | undefined,
): Promise<Outcome> {
  const { task } = run;
  const { running, context } = startTask(env, run, run.pending.interrupts.get(task.id));
  const outcome = await running;
  // A task that asked (interrupt()) is not kept: its writes hold a person's answer, not its input's result.
  if (cacheAt !== undefined && outcome.kind === "done" && context.interruptIndex === 0)
    await keepCached(env, task, cacheAt, outcome.writes);
  const handler = outcome.kind === "failed" ? handlerOf(env, run, outcome.error) : undefined;
  // As LangGraph's: the handler's task starts before the node's failure is reported.
  if (handler !== undefined) emitTaskStart(env, step, handler, run.input);
  if (env.emit !== undefined) emitTaskResult(env, step, task, outcome);
  if (handler === undefined || outcome.kind !== "failed") return outcome;
  return runHandler(env, step, run, handler, outcome.error, undefined);
}

/** A task the cache had writes for: they are its writes, streamed as LangGraph's (marked cached, no result event). */
export function cacheHit(env: StepEnv, task: PlannedTask, writes: Write[]): Outcome {
  const outcome: Outcome = { kind: "done", writes, output: undefined, hit: true };
  if (env.emit?.modes.has("updates")) emitUpdate(env, task, outcome);
  return outcome;
}

/**
 * The task that runs in place of `task` when it fails: its node's error handler (the graph's
 * now: a deploy may have changed it), with an id of its own (its interrupts', its idempotency
 * key's), a push task as LangGraph's; undefined when the node has none.
 */
function handlerTask(env: StepEnv, task: PlannedTask): PlannedTask | undefined {
  const handler = env.spec.nodes.get(task.name)?.errorHandler;
  if (handler === undefined) return undefined;
  return {
    id: deterministicId(task.id, "node_error_handler", handler),
    name: handler,
    kind: "push",
    triggers: [],
  };
}

/**
 * The handler's task for `run`'s failure, if it takes it: not a Command for a parent graph
 * (routing, not a failure), not a run cancelled or timed out (its signal aborted), and not the
 * failure of a `task()` call the node made, which fails the run as in LangGraph (whichever of
 * the node's calls settled first).
 */
function handlerOf(env: StepEnv, run: PlannedRun, error: unknown): PlannedTask | undefined {
  if (isParentCommand(error) || env.signal?.aborted === true) return undefined;
  if (run.calls.failed.has(run.task.id)) return undefined;
  return handlerTask(env, run.task);
}

/** Runs `handler` for `run`'s failed task (its start streamed already): its outcome, marked, stands for the task's. */
async function runHandler(
  env: StepEnv,
  step: number,
  run: PlannedRun,
  handler: PlannedTask,
  error: unknown,
  asked: readonly Interrupt[] | undefined,
): Promise<Outcome> {
  // What the node threw, as LangGraph gives it (after a pause, an Error rebuilt from its record).
  const nodeError = new NodeError(run.task.name, error as Error);
  const outcome: Outcome = {
    ...(await startTask(env, { ...run, task: handler }, asked, nodeError).running),
    handledBy: { task: handler, error },
  };
  return env.emit === undefined ? outcome : emitTaskResult(env, step, handler, outcome);
}

/**
 * A task whose node failed and was handled before the superstep ran again: its handler runs
 * again (answered, or after a failure); the node does not. A graph version whose node has no
 * handler now fails the task with the node's error.
 */
export function runHandledAgain(env: StepEnv, step: number, run: PlannedRun): Promise<Outcome> {
  const error = storedError(run.pending.errors.get(run.task.id));
  const handler = handlerTask(env, run.task);
  if (handler === undefined) return Promise.resolve({ kind: "failed", error });
  emitTaskStart(env, step, handler, run.input);
  return runHandler(env, step, run, handler, error, run.pending.interrupts.get(run.task.id));
}

/**
 * A task that finished before the superstep ran again: its pending writes, marked cached, and
 * marked with its handler when they are a handler's (named after it).
 */
export function finishedBefore(
  env: StepEnv,
  task: PlannedTask,
  pending: PendingState,
  writes: Write[],
): Outcome {
  const outcome: Outcome = { kind: "done", writes, output: undefined, cached: true };
  const handler = pending.handled.has(task.id) ? handlerTask(env, task) : undefined;
  if (handler === undefined) return outcome;
  return { ...outcome, handledBy: { task: handler, error: storedError(pending.errors.get(task.id)) } };
}
