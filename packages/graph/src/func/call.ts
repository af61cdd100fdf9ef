// Calling a `task()` function: a task of the running superstep, run (or given back) now.
import { assertJsonSerialisable } from "@layover/checkpoint";
import type { PlannedTask } from "../algo/plan.ts";
import { RETURN } from "../constants.ts";
import { currentTask, type TaskContext, taskContext } from "../context.ts";
import { OutsideNodeError } from "../errors.ts";
import type { NodeConfig, RetryPolicy } from "../graph/spec.ts";
import { deterministicId } from "../ids.ts";
import { GraphInterrupt } from "../interrupt.ts";
import { callNode } from "../langchain.ts";
import { type TaskOutcome, withRetries } from "../run-task.ts";
import { triggersOf } from "../task-setup.ts";
import { finishCall, returnedBy } from "./call-scope.ts";

/** Where a call runs: under its caller's task, as LangGraph's (`wf:<id>|book:<id>` is the call's own). */
function callerNs(parent: TaskContext): string {
  const own = `${parent.node}:${parent.taskId}`;
  return parent.ns === "" ? own : `${parent.ns}|${own}`;
}

/** The config a call's function finds (`getConfig()`): its caller's, with the call's own metadata. */
function callConfig(parent: TaskContext, call: PlannedTask, under: string): NodeConfig {
  const config = parent.config as NodeConfig;
  const ns = `${under}|${call.name}:${call.id}`;
  return {
    ...config,
    metadata: {
      ...config.metadata,
      langgraph_node: call.name,
      langgraph_task_id: call.id,
      langgraph_triggers: triggersOf(call),
      langgraph_path: ["__pregel_push", call.name],
      langgraph_checkpoint_ns: ns,
      checkpoint_ns: ns,
    },
    idempotencyKey: `${parent.threadId}:${call.id}`,
  };
}

/** What the caller's `await` gives: the result, or the call's interrupt or error thrown. */
function settled(outcome: TaskOutcome): unknown {
  if (outcome.kind === "done") return outcome.output;
  throw outcome.kind === "interrupted" ? new GraphInterrupt(outcome.interrupts) : outcome.error;
}

/**
 * Calls `fn(...args)` as the task `name` of the running superstep: the result it gave before the
 * superstep ran again, or a run of it now (retried as `retry` says), which the superstep waits
 * for and keeps when it pauses.
 */
export function callTask(
  name: string,
  fn: (...args: any[]) => unknown,
  args: unknown[],
  retry: RetryPolicy | undefined,
): Promise<unknown> {
  const parent = currentTask();
  if (parent?.calls === undefined) throw new OutsideNodeError(`The task "${name}"`);
  const scope = parent.calls;
  const call: PlannedTask = {
    id: deterministicId(parent.taskId, "call", parent.callIndex++, name),
    name,
    kind: "push",
    triggers: [],
    arg: args,
  };
  const stored = scope.stored.get(call.id);
  const kept = stored === undefined ? undefined : returnedBy(stored);
  if (kept !== undefined || scope.finished.has(call.id)) {
    const output = kept === undefined ? scope.finished.get(call.id) : kept.value;
    scope.started?.(call);
    scope.ended?.(call, { kind: "done", writes: [[RETURN, output]], output, cached: true });
    return Promise.resolve(output);
  }
  const context: TaskContext = {
    ...parent,
    ns: callerNs(parent),
    taskId: call.id,
    node: name,
    rootTaskId: parent.rootTaskId ?? parent.taskId,
    input: args,
  };
  context.config = callConfig(parent, call, context.ns);
  scope.started?.(call);
  const running = withRetries(retry, parent.signal, async (attemptNo) => {
    Object.assign(context, { attempt: attemptNo, interruptIndex: 0, subgraphCalls: 0, callIndex: 0 });
    const output = await taskContext.run(context, () =>
      callNode(context.config as NodeConfig, () => fn(...args)),
    );
    // Kept as a pending write: what a checkpointer can store.
    if (parent.checkpointer !== undefined) assertJsonSerialisable(output, `The result of task "${name}"`);
    return { kind: "done" as const, writes: [[RETURN, output] as [string, unknown]], output };
  }).then(async (outcome) => {
    if (outcome.kind === "done") await finishCall(scope, call.id, outcome.output);
    else if (outcome.kind === "interrupted") {
      const root = context.rootTaskId as string;
      scope.asked.set(root, [...(scope.asked.get(root) ?? []), ...outcome.interrupts]);
    } else if (!scope.failed.has(context.rootTaskId as string))
      scope.failed.set(context.rootTaskId as string, outcome.error);
    scope.ended?.(call, outcome);
    return outcome;
  });
  scope.running.add(running);
  const settle = () => void scope.running.delete(running);
  void running.then(settle, settle);
  return running.then(settled);
}
