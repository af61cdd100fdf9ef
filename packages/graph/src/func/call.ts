// Calling a `task()` function: a task of the running superstep, run (or given back) now.
import { type CacheFullKey, isLayoverError, jsonSerializer, NotSerializableError } from "@layover/checkpoint";
import type { PlannedTask } from "../algo/plan.ts";
import { RETURN } from "../constants.ts";
import { currentTask, inAttempt, type TaskContext } from "../context.ts";
import { OutsideNodeError } from "../errors.ts";
import { cacheKey, readCache, scopedNode, writeCache } from "../graph/cache-policy.ts";
import type { CachePolicy, NodeConfig, RetryPolicy } from "../graph/spec.ts";
import { deterministicId } from "../ids.ts";
import { GraphInterrupt } from "../interrupt.ts";
import { callNode } from "../langchain.ts";
import { messagesStreamer } from "../messages-stream.ts";
import { runBody } from "../node-body.ts";
import { type TimeoutPolicy, timedAttempt } from "../node-timeout.ts";
import { type TaskOutcome, withRetries } from "../run-task.ts";
import { nestedEmitter } from "../stream.ts";
import { triggersOf } from "../task-setup.ts";
import { type CallScope, finishCall, returnedBy } from "./call-scope.ts";

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

/**
 * A call's custom-stream writer, as LangGraph's: under its caller's task's namespace with
 * `subgraphs: true` (`["wf:<id>"]`), the run's own chunks otherwise; undefined: the caller's.
 */
function callWriter(parent: TaskContext, ns: string): ((chunk: unknown) => void) | undefined {
  if (parent.streamTo === undefined) return undefined;
  const nested = nestedEmitter(parent.streamTo, ns);
  if (nested === undefined || !nested.modes.has("custom")) return undefined;
  return (chunk) => nested.push("custom", chunk);
}

/** What the caller's `await` gives: the result, or the call's interrupt or error thrown. */
function settled(outcome: TaskOutcome): unknown {
  if (outcome.kind === "done") return outcome.output;
  throw outcome.kind === "interrupted" ? new GraphInterrupt(outcome.interrupts) : outcome.error;
}

/** What a task is called with besides its function: its retry and cache policies. */
export interface CallPolicies {
  retry: RetryPolicy | undefined;
  cachePolicy: CachePolicy | undefined;
  timeout: TimeoutPolicy | undefined;
}

/** A result the superstep kept for a call (it ran before a resume or a retry): given back. */
function given(scope: CallScope, call: PlannedTask, value: unknown): Promise<unknown> {
  scope.started?.(call, true);
  scope.ended?.(call, { kind: "done", writes: [[RETURN, value]], output: value, cached: true });
  return Promise.resolve(value);
}

/**
 * A call the cache had a result for: it does not run, and the result is kept as a finished call's
 * (a resume gives it back, whatever the cache holds by then).
 */
async function hit(scope: CallScope, call: PlannedTask, value: unknown): Promise<unknown> {
  scope.started?.(call, true);
  scope.ended?.(call, { kind: "done", writes: [[RETURN, value]], output: value, hit: true });
  await finishCall(scope, call.id, value);
  return value;
}

/**
 * Calls `fn(...args)` as the task `name` of the running superstep: the result it gave before the
 * superstep ran again, or the cache's for the same arguments (a cachePolicy), or a run of it now
 * (retried as its policy says), which the superstep waits for and keeps when it pauses.
 */
export function callTask(
  name: string,
  fn: (...args: any[]) => unknown,
  args: unknown[],
  policies: CallPolicies,
): Promise<unknown> {
  const parent = currentTask();
  if (parent?.calls === undefined) throw new OutsideNodeError(`The task "${name}"`);
  // A cancelled run, an aborted invoke: the workflow stops at its next call, none starts (as
  // LangGraph's, which rejects with the signal's reason). Its finished calls stay kept.
  parent.signal.throwIfAborted();
  // A call is progress of a timed node; one made after its attempt timed out fails.
  parent.progress?.();
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
  if (kept !== undefined) return given(scope, call, kept.value);
  if (scope.finished.has(call.id)) return given(scope, call, scope.finished.get(call.id));
  const cache = scope.cache;
  if (cache === undefined || policies.cachePolicy === undefined)
    return run(parent, call, fn, policies, undefined);
  const key = cacheKey(cache.name, scopedNode(cache, name), policies.cachePolicy, args);
  const looked = readCache(cache, [key]).then(([found]) =>
    found === undefined ? run(parent, call, fn, policies, key) : hit(scope, call, found.value),
  );
  track(
    scope,
    looked.then(() => undefined),
  );
  return looked;
}

/** Holds the superstep until `work` settles (settleCalls waits for the scope's running work). */
function track(scope: CallScope, work: Promise<unknown>): void {
  scope.running.add(work);
  const settle = () => void scope.running.delete(work);
  void work.then(settle, settle);
}

/** Runs a call now; one that finishes without asking anything keeps its result under `cacheAt`. */
function run(
  parent: TaskContext,
  call: PlannedTask,
  fn: (...args: any[]) => unknown,
  policies: CallPolicies,
  cacheAt: CacheFullKey | undefined,
): Promise<unknown> {
  const scope = parent.calls as CallScope;
  const args = call.arg as unknown[];
  const context: TaskContext = {
    ...parent,
    ns: callerNs(parent),
    taskId: call.id,
    node: call.name,
    rootTaskId: parent.rootTaskId ?? parent.taskId,
    input: args,
    // Its run goes under its caller's node run, as LangGraph's.
    chainParent: parent.chainRun,
    chainRun: undefined,
  };
  const base = callConfig(parent, call, context.ns);
  const writer = callWriter(parent, context.ns);
  if (writer !== undefined) {
    context.writer = writer;
    base.writer = writer;
  }
  context.config = base;
  // Its models stream "messages" as its caller's (its namespace is not a subgraph's).
  messagesStreamer(parent.streamTo, parent.ns)?.called(base.metadata.checkpoint_ns);
  scope.started?.(call);
  const running = withRetries(policies.retry, parent.signal, async (attemptNo) => {
    return inAttempt(context, policies.retry !== undefined, attemptNo, (own) =>
      callAttempt(parent, call, fn, policies.timeout, base, own),
    );
  }).then(async (outcome) => {
    await recorded(scope, context, call, outcome);
    const cache = scope.cache;
    if (
      cacheAt !== undefined &&
      cache !== undefined &&
      outcome.kind === "done" &&
      context.interruptIndex === 0
    )
      await writeCache(cache, [{ key: cacheAt, value: outcome.output, ...ttlOf(policies.cachePolicy) }]);
    return outcome;
  });
  track(scope, running);
  return running.then(settled);
}

/**
 * Refuses a task's result the checkpoint serializer cannot store (a function, a symbol, a
 * cycle), as its caller's: kept as a pending write, it would fail the superstep when it pauses.
 * What a state may hold a result may too: a LangChain message, a Date, a Map (before, only
 * plain JSON: a task returning a model's AIMessage was refused).
 */
function assertStorableResult(name: string, output: unknown): void {
  try {
    jsonSerializer.dumps(output);
  } catch (error) {
    if (!isLayoverError(error, "NOT_SERIALIZABLE")) throw error;
    const said = (text: string) => `The result of task "${name}" cannot be stored: ${text}`;
    const { path, message, redactedMessage } = error as NotSerializableError;
    throw new NotSerializableError(path, said(message), said(redactedMessage ?? message));
  }
}

/** One attempt of a call, in `context`: its result, kept as a pending write (what a checkpointer can store). */
async function callAttempt(
  parent: TaskContext,
  call: PlannedTask,
  fn: (...args: any[]) => unknown,
  timeout: TimeoutPolicy | undefined,
  base: NodeConfig,
  context: TaskContext,
): Promise<TaskOutcome> {
  // A call's result is what it returns: pushMessage is refused in it.
  const body = (given: NodeConfig, own: TaskContext) =>
    runBody(own, undefined, () => callNode(given, call.arg, () => fn(...(call.arg as unknown[]))));
  const output =
    timeout === undefined
      ? await body(base, context)
      : await timedAttempt(timeout, { node: call.name, base, context }, body);
  if (parent.checkpointer !== undefined) assertStorableResult(call.name, output);
  return { kind: "done", writes: [[RETURN, output]], output };
}

const ttlOf = (policy: CachePolicy | undefined) => (policy?.ttl === undefined ? {} : { ttl: policy.ttl });

/** What a call's outcome leaves in its superstep: its result kept, its questions or its error its caller's. */
async function recorded(scope: CallScope, context: TaskContext, call: PlannedTask, outcome: TaskOutcome) {
  const root = context.rootTaskId as string;
  if (outcome.kind === "done") await finishCall(scope, call.id, outcome.output);
  else if (outcome.kind === "interrupted")
    scope.asked.set(root, [...(scope.asked.get(root) ?? []), ...outcome.interrupts]);
  else if (!scope.failed.has(root)) scope.failed.set(root, outcome.error);
  scope.ended?.(call, outcome);
}
