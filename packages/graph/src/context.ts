import { AsyncLocalStorage } from "node:async_hooks";
import type { BaseStore, CheckpointSaver } from "@layover/checkpoint";
import { OutsideNodeError } from "./errors.ts";
import type { CallScope } from "./func/call-scope.ts";
import type { GraphCache } from "./graph/cache-policy.ts";
import type { Emitter } from "./stream.ts";

/** What a running node can reach through `interrupt()`, subgraphs and the custom stream. */
export interface TaskContext {
  threadId: string;
  ns: string;
  taskId: string;
  node: string;
  /** The saver of the outermost graph: undefined when the run cannot pause. */
  checkpointer: CheckpointSaver | undefined;
  /** Subgraphs the task calls store in `checkpointer`, whatever saver they were compiled with. */
  subgraphsShareSaver: boolean;
  /** Where subgraphs the task calls keep a cache of their own's writes (see StepEnv.subgraphsCache). */
  subgraphsCache?: GraphCache | undefined;
  /** Resume values known for this run, by interrupt id (shared with nested subgraphs). */
  resumeValues: ReadonlyMap<string, unknown>;
  /**
   * This task's interrupts as they were asked when it paused (stored with the checkpoint), by id:
   * an answer is checked against the schema its question was asked with.
   */
  asked?: ReadonlyMap<string, { resumeSchema?: Record<string, unknown> }> | undefined;
  /** How many `interrupt()` calls this task has made so far. */
  interruptIndex: number;
  /** How many subgraph invocations this task has made so far (names their namespaces). */
  subgraphCalls: number;
  /** How many `task()` functions this task has called so far (names the calls' ids). */
  callIndex: number;
  /** The superstep's calls of `task()` functions: undefined where none can be made (outside a run). */
  calls?: CallScope | undefined;
  /** The superstep's task the running call was made under (its own id, for a planned task). */
  rootTaskId?: string | undefined;
  /** An entrypoint's value from the thread's last run: `getPreviousState()`. */
  previous?: unknown;
  /**
   * pushMessage's hook in the attempt this context runs (a StateGraph node's; none in an
   * entrypoint or task() call: refused there). Each attempt that may not be the last runs in a
   * context of its own, so a push an earlier attempt leaves running goes to that one's (closed).
   */
  pushHook?: PushHook | undefined;
  /**
   * Tells a timed attempt (`addNode(…, { timeout })`) its node made progress (pushMessage, a
   * task() call): it refreshes the idle timeout; after the attempt timed out, it throws.
   */
  progress?: (() => void) | undefined;
  /** Custom stream chunks (`config.writer`). */
  writer: ((chunk: unknown) => void) | undefined;
  signal: AbortSignal;
  /** The run's `config.context` and `config.tags`: subgraphs called from the task inherit them. */
  runContext: unknown;
  tags: readonly string[];
  /** The run's `config.recursionLimit`: subgraphs called from the task take it, as LangGraph's. */
  recursionLimit: number | undefined;
  /** The node's LangChain callback handlers (the call's and its streams'): subgraphs it calls inherit them. */
  callbacks?: readonly object[] | undefined;
  /** The LangChain run this task's node run goes under: its caller's node run (a subgraph's, a task()'s), or the call's. */
  chainParent?: string | undefined;
  /** This task's node run while it runs (where callbacks listen): the subgraphs and task() calls it makes go under it. */
  chainRun?: string | undefined;
  /** The run's stream: subgraphs the task calls stream to it (all of it with `subgraphs: true`; else "custom"). */
  streamTo?: Emitter | undefined;
  /** The run's long-term store: `getStore()`, and subgraphs the task calls without one of their own. */
  store?: BaseStore | undefined;
  /** Which attempt of the task this is (its retry policy's): 1 on a first run or a resume. */
  attempt: number;
  /** The task's graph's UntrackedValue keys: a subgraph it calls with its state keys its input without them. */
  untracked?: ReadonlySet<string> | undefined;
  /** The config and input the node was called with: `getConfig()`, `getCurrentTaskInput()`. */
  config?: unknown;
  input?: unknown;
}

/** Where pushMessage sends a message: one attempt of one StateGraph node. */
export interface PushHook {
  /** False once the attempt ended: a message pushed later (a timer the node left) goes nowhere. */
  open: boolean;
  push(message: object, stateKey: string | undefined): void;
}

export const taskContext = new AsyncLocalStorage<TaskContext>();

/** What an attempt of a task counts as it runs (its interrupts, subgraph calls, task() calls). */
const ATTEMPT_COUNTERS = ["interruptIndex", "subgraphCalls", "callIndex"] as const;

/** Starts attempt `attempt` of the task of `context`: its counts from 0. */
function startAttempt(context: TaskContext, attempt: number): void {
  for (const key of ATTEMPT_COUNTERS) context[key] = 0;
  context.attempt = attempt;
}

/** Gives `task` what an attempt run in a context of its own (`own`) counted. */
export function countsBack(own: TaskContext, task: TaskContext): void {
  for (const key of ATTEMPT_COUNTERS) task[key] = own[key];
}

/**
 * Runs attempt `attemptNo` of the task of `context`. One that may be retried runs in a context of
 * its own: what it still does after it failed (a timer it left) reaches neither the next
 * attempt's counters (its interrupts' and calls' ids) nor its pushMessage; the task gets its counts.
 */
export async function inAttempt<T>(
  context: TaskContext,
  retried: boolean,
  attemptNo: number,
  attempt: (own: TaskContext) => Promise<T>,
): Promise<T> {
  const own = retried ? { ...context } : context;
  startAttempt(own, attemptNo);
  try {
    return await attempt(own);
  } finally {
    if (own !== context) countsBack(own, context);
  }
}

export function currentTask(): TaskContext | undefined {
  return taskContext.getStore();
}

/**
 * The config the running node was called with (`configurable`, `context`, `metadata`, `signal`,
 * `writer`…), as LangGraph's `getConfig()`; a node may also take it as its second argument.
 */
export function getConfig(): Record<string, unknown> {
  const task = currentTask();
  if (task === undefined) throw new OutsideNodeError("getConfig()");
  return task.config as Record<string, unknown>;
}

/**
 * The long-term store of the running graph (`compile({ store })`; on workers, theirs), as
 * LangGraph's `getStore()`; undefined when the graph has none. A node may also read `config.store`.
 * `config`, when given, is read instead of the running node's, as LangGraph's `getStore(config)`.
 */
export function getStore(config?: object): BaseStore | undefined {
  if (config !== undefined)
    return ((config as { store?: unknown }).store ?? undefined) as BaseStore | undefined;
  const task = currentTask();
  if (task === undefined) throw new OutsideNodeError("getStore()");
  return task.store;
}

/** The input of the running node: the state it was given, or its `Send` argument (LangGraph's `getCurrentTaskInput()`). */
export function getCurrentTaskInput<T = unknown>(): T {
  const task = currentTask();
  if (task === undefined) throw new OutsideNodeError("getCurrentTaskInput()");
  return task.input as T;
}

/**
 * Sends `chunk` to the running node's custom stream (`stream(…, { streamMode: "custom" })`;
 * nowhere when the run does not stream it), as LangGraph.js's `writer(chunk)`.
 */
export function writer(chunk: unknown): void {
  if (currentTask() === undefined) throw new OutsideNodeError("writer()");
  getWriter()?.(chunk);
}

/**
 * The running node's custom-stream writer (`config.writer`), as LangGraph's `getWriter()`: what it
 * is given goes to `stream(…, { streamMode: "custom" })`, and nowhere otherwise. `config`, when
 * given, is read instead of the running node's.
 */
export function getWriter(config?: {
  writer?: (chunk: unknown) => void;
}): ((chunk: unknown) => void) | undefined {
  if (config !== undefined) return config.writer;
  if (currentTask() === undefined) throw new OutsideNodeError("getWriter()");
  return (getConfig() as { writer?: (chunk: unknown) => void }).writer;
}
