// What a task runs with: the context `interrupt()`, subgraphs and the custom stream reach, and
// the config its node is given (LangGraph's metadata, and callbacks while "messages" streams).

import type { PlannedTask } from "./algo/plan.ts";
import { DEFAULT_RECURSION_LIMIT } from "./constants.ts";
import { currentTask, type TaskContext } from "./context.ts";
import type { ExecutionInfo, NodeConfig } from "./graph/spec.ts";
import type { LoadedHead } from "./head.ts";
import { type Interrupt, interrupt } from "./interrupt.ts";
import { type MessagesStreamer, messagesStreamer } from "./messages-stream.ts";
import type { StepEnv } from "./step-env.ts";

/**
 * The context and config of `task`, planned from `head`; `messages` when the run streams them.
 * `configurable`: what the task's config holds besides the run's (an error handler's NodeError).
 */
export function taskSetup(
  env: StepEnv,
  head: LoadedHead,
  task: PlannedTask,
  resume: ReadonlyMap<string, unknown>,
  asked: readonly Interrupt[] | undefined,
  configurable?: Record<string, unknown>,
) {
  const emit = env.emit;
  const writer =
    emit?.modes.has("custom") === true
      ? (chunk: unknown) => emit.push("custom", chunk)
      : (_chunk: unknown) => {};
  const context: TaskContext = {
    threadId: env.key.threadId,
    ns: env.key.ns,
    taskId: task.id,
    node: task.name,
    checkpointer: env.durable ? env.saver : undefined,
    subgraphsShareSaver: env.subgraphsShareSaver === true,
    subgraphsCache: env.subgraphsCache,
    resumeValues: resume,
    asked: asked === undefined ? undefined : new Map(asked.map((record) => [record.id, record])),
    interruptIndex: 0,
    subgraphCalls: 0,
    callIndex: 0,
    writer,
    signal: env.signal,
    progress: env.progress,
    runContext: env.context,
    tags: env.tags,
    recursionLimit: env.recursionLimit,
    store: env.store,
    streamTo: emit,
    chainParent: env.chainParent,
    attempt: 1,
    untracked: env.spec.untracked,
  };
  const ns = `${env.key.ns === "" ? "" : `${env.key.ns}|`}${task.name}:${task.id}`;
  const config: NodeConfig = {
    configurable: configurable === undefined ? env.configurable : { ...env.configurable, ...configurable },
    context: env.context,
    tags: env.tags,
    // As LangGraph's: a subgraph the node invokes with its config runs under the same limit.
    recursionLimit: env.recursionLimit ?? DEFAULT_RECURSION_LIMIT,
    signal: env.signal,
    writer,
    interrupt,
    executionInfo: executionInfo(head.checkpoint.id, ns, task.id, env.key.threadId),
    metadata: {
      // The caller's metadata (config.metadata), under what the engine writes, as LangGraph's.
      ...env.metadata,
      langgraph_node: task.name,
      langgraph_step: head.metadata.step + 1,
      langgraph_task_id: task.id,
      langgraph_triggers: triggersOf(task),
      langgraph_path: task.kind === "pull" ? ["__pregel_pull", task.name] : ["__pregel_push", task.name],
      langgraph_checkpoint_ns: ns,
      checkpoint_ns: ns,
      // The caller's thread only: a run without one has a key of its own LangGraph has not.
      ...(env.configurable.thread_id === undefined ? {} : { thread_id: env.key.threadId }),
    },
    idempotencyKey: `${env.key.threadId}:${task.id}`,
  };
  if (env.store !== undefined) config.store = env.store;
  const messages = messagesStreamer(env.emit, env.key.ns);
  const callbacks = nodeCallbacks(env, messages);
  if (callbacks !== undefined) config.callbacks = callbacks;
  // Subgraphs the node calls hand their nodes these too: a stream's handlers tell their own from them.
  context.callbacks = callbacks;
  context.config = config;
  return { context, config, messages };
}

/**
 * A task's `executionInfo`. `nodeAttempt` is the attempt running now (a retried node's attempts
 * each run in a task context of their own), an own enumerable getter, so a copy (a spread, JSON)
 * keeps it. It counts the attempts of one run of the task: a job run again after its worker died
 * counts from 1 again (taskId is the same).
 */
function executionInfo(
  checkpointId: string,
  checkpointNs: string,
  taskId: string,
  threadId: string,
): ExecutionInfo {
  return {
    get nodeAttempt() {
      return currentTask()?.attempt ?? 1;
    },
    checkpointId,
    checkpointNs,
    taskId,
    threadId,
  };
}

/** A node's LangChain callbacks: the call's, its stream's; undefined when there are none (the common case). */
function nodeCallbacks(env: StepEnv, messages: MessagesStreamer | undefined): object[] | undefined {
  const streamed = env.emit?.callbacks;
  if (env.callbacks === undefined && streamed === undefined && messages === undefined) return undefined;
  return [
    ...(env.callbacks ?? []),
    ...(streamed ?? []),
    ...(messages === undefined ? [] : [messages.handler]),
  ];
}

const PUSH_TRIGGERS: readonly string[] = Object.freeze(["__pregel_push"]);

/** What a task reports it was triggered by, as LangGraph's: a `Send`'s task by `__pregel_push`. */
export function triggersOf(task: PlannedTask): readonly string[] {
  return task.kind === "push" ? PUSH_TRIGGERS : task.triggers;
}
