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
import { NodeError } from "./errors.ts";
import type { CallScope } from "./func/call-scope.ts";
import type { LoadedHead } from "./head.ts";
import { deterministicId } from "./ids.ts";
import type { Interrupt } from "./interrupt.ts";
import { keepCached } from "./node-cache.ts";
import { runTask } from "./run-task.ts";
import type { StepEnv } from "./step-env.ts";
import { emitTaskResult, emitTaskStart, emitUpdate, type Outcome } from "./task-events.ts";
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
  const setup = taskSetup(env, head, task, run.resume, asked);
  const { context, messages } = setup;
  let { config } = setup;
  if (nodeError !== undefined) {
    config = { ...config, configurable: { ...config.configurable, [CONFIG_KEY_NODE_ERROR]: nodeError } };
    context.config = config;
  }
  context.input = input;
  if (env.spec.root !== undefined) context.previous = state[env.spec.root.previous];
  context.calls = run.calls;
  const { values, versions } = run.base;
  return {
    running: runTask({ spec: env.spec, task, input, values, versions, context, config, messages }),
    context,
  };
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
  if (env.emit !== undefined) emitTaskResult(env, step, task, outcome);
  const handler = outcome.kind === "failed" ? handlerFor(env, task, outcome.error) : undefined;
  if (handler === undefined || outcome.kind !== "failed") return outcome;
  return runHandler(env, step, run, handler, outcome.error, undefined);
}

/** A task the cache had writes for: they are its writes, streamed as LangGraph's (marked cached, no result event). */
export function cacheHit(env: StepEnv, task: PlannedTask, writes: Write[]): Outcome {
  const outcome: Outcome = { kind: "done", writes, output: undefined, hit: true };
  if (env.emit?.modes.has("updates")) emitUpdate(env, task, outcome);
  return outcome;
}

/** The task a failed task's handler runs as: an id of its own (its interrupts', its idempotency key's), a push task as LangGraph's. */
function handlerTask(task: PlannedTask, handler: string): PlannedTask {
  return {
    id: deterministicId(task.id, "node_error_handler", handler),
    name: handler,
    kind: "push",
    triggers: [],
  };
}

/**
 * The error handler node that takes `task`'s failure, if any: not a Command for a parent graph
 * (routing, not a failure), not a run cancelled or timed out (its signal aborted).
 */
function handlerFor(env: StepEnv, task: PlannedTask, error: unknown): string | undefined {
  if (isParentCommand(error) || env.signal?.aborted === true) return undefined;
  return env.spec.nodes.get(task.name)?.errorHandler;
}

/** Runs `handler` for `run`'s failed task: its outcome, marked, stands for the task's. */
async function runHandler(
  env: StepEnv,
  step: number,
  run: PlannedRun,
  handler: string,
  error: unknown,
  asked: readonly Interrupt[] | undefined,
): Promise<Outcome> {
  const task = handlerTask(run.task, handler);
  emitTaskStart(env, step, task, run.input);
  const nodeError = new NodeError(run.task.name, asError(error));
  const outcome: Outcome = {
    ...(await startTask(env, { ...run, task }, asked, nodeError).running),
    handledBy: { task, error },
  };
  return env.emit === undefined ? outcome : emitTaskResult(env, step, task, outcome);
}

/** What a handler is given as the node's error: the Error it threw, else one that says what it threw. */
function asError(error: unknown): Error {
  return error instanceof Error ? error : new Error(String(error));
}

/** The error a stored record (pause.ts's errorRecord) stands for: its name, message and code. */
function storedError(record: unknown): Error {
  const { name, message, code } = (record ?? {}) as { name?: string; message?: string; code?: string };
  const error = new Error(message ?? "The node failed.");
  if (name !== undefined) error.name = name;
  if (code !== undefined) Object.assign(error, { code });
  return error;
}

/**
 * A task whose node failed and was handled before the superstep ran again: its handler runs
 * again (answered, or after a failure); the node does not. A graph version without the handler
 * fails the task with the node's error.
 */
export function runHandledAgain(
  env: StepEnv,
  step: number,
  run: PlannedRun,
  handler: string,
): Promise<Outcome> {
  const error = storedError(run.pending.errors.get(run.task.id));
  if (!env.spec.nodes.has(handler)) return Promise.resolve({ kind: "failed", error });
  return runHandler(env, step, run, handler, error, run.pending.interrupts.get(run.task.id));
}

/** A handled task's finished (or waiting) outcome from its pending writes, named for its handler. */
export function handledOutcome(task: PlannedTask, pending: PendingState, outcome: Outcome): Outcome {
  const handler = pending.handled.get(task.id);
  if (handler === undefined) return outcome;
  return {
    ...outcome,
    handledBy: { task: handlerTask(task, handler), error: storedError(pending.errors.get(task.id)) },
  };
}
