import { randomUUID } from "node:crypto";
import {
  type BaseCache,
  type BaseStore,
  type CheckpointSaver,
  isStore,
  MemorySaver,
  unstorableText,
} from "@layover/checkpoint";
import { type Durability, isDurability, requestedDurability, TASK_SEED } from "../commit.ts";
import { DEFAULT_GRAPH_NAME, namespacePlace } from "../constants.ts";
import { currentTask, type TaskContext } from "../context.ts";
import {
  InvalidGraphError,
  InvalidInputError,
  MissingCheckpointerError,
  MissingThreadIdError,
} from "../errors.ts";
import { callbackList, parentRunOf } from "../langchain.ts";
import type { StepEnv } from "../step.ts";
import { type Emitter, nestedEmitter, teeEmitter } from "../stream.ts";
import type { GraphSpec } from "./spec.ts";

export interface RunnableConfig {
  // `| undefined` on each: LangGraph.js takes a config whose checkpoint_id may be undefined
  // (`state.config.configurable?.checkpoint_id`), under exactOptionalPropertyTypes too.
  configurable?:
    | {
        thread_id?: string | undefined;
        /** Replay or fork from this checkpoint instead of the head. */
        checkpoint_id?: string | undefined;
        checkpoint_ns?: string | undefined;
        [key: string]: unknown;
      }
    | undefined;
  /**
   * Run-scoped values every node (and subgraph) reads as `config.context` — a user id, a model
   * name — as LangGraph's `context`. Not stored in checkpoints: pass it again on resume.
   */
  context?: unknown;
  /** Labels every node sees as `config.tags`. */
  tags?: readonly string[] | undefined;
  /**
   * LangChain callback handlers (a list, or a `CallbackManager`), as LangGraph's `callbacks`:
   * every node's `config.callbacks` carries them, subgraphs' nodes too, so the chat models and
   * tools nodes call report to them (token counts, costs, logs).
   */
  callbacks?: unknown;
  /** Most supersteps one call may run. @defaultValue 25 */
  recursionLimit?: number | undefined;
  /** Abort the run: no further superstep starts, and nodes see the signal. */
  signal?: AbortSignal | undefined;
  /**
   * Stamped on every checkpoint the call writes (beside `source`, `step`, `writes` and
   * `task_seed`, which it cannot override); `getStateHistory` filters on it. The runtime
   * records its run id here.
   */
  metadata?: Record<string, unknown> | undefined;
  /**
   * When checkpoints are stored, as in LangGraph: "sync" and "async" store every superstep's
   * (Layover stores it before the next superstep starts in both); "exit" only the last, when the
   * run ends, pauses or fails — fewer writes, but a crash redoes the supersteps since the last
   * stored checkpoint, as a replay: their tasks keep their ids and idempotency keys (each
   * checkpoint's metadata carries the `task_seed` they derive from), so a node whose result
   * differs the second time (an LLM call) can find work downstream of it already done for the
   * first. Subgraphs store every superstep; one a task had finished keeps its result for the
   * same input.
   * @defaultValue "async"
   */
  durability?: Durability;
  /** @deprecated LangGraph's older spelling: `false` is `durability: "exit"`. */
  checkpointDuring?: boolean;
  /** Pause before these nodes run, for this call: replaces the graph's compile-time list. */
  interruptBefore?: readonly string[] | "*";
  /** Pause after these nodes' superstep, for this call: replaces the graph's compile-time list. */
  interruptAfter?: readonly string[] | "*";
  /**
   * The long-term store this call's nodes (and its subgraphs') reach, over the one the graph
   * was compiled with, as LangGraph's `store`. A node's own config carries the run's.
   */
  store?: BaseStore | undefined;
}

export interface GraphRuntimeOptions {
  spec: GraphSpec;
  checkpointer: CheckpointSaver | false | undefined;
  interruptBefore: ReadonlySet<string> | "*";
  interruptAfter: ReadonlySet<string> | "*";
  store?: BaseStore | undefined;
  cache?: BaseCache | undefined;
  cacheName?: string | undefined;
  cacheOnError?: ((error: unknown) => void) | undefined;
}

/** Where a graph's nodes and tasks with a cachePolicy keep their writes; undefined: nowhere. */
function graphCache(graph: GraphRuntimeOptions): StepEnv["cache"] {
  if (graph.cache === undefined) return undefined;
  return { cache: graph.cache, name: graph.cacheName ?? graph.spec.name, onError: graph.cacheOnError };
}

const NONE: ReadonlySet<string> = new Set();

/**
 * The breakpoints of a call: its own `interruptBefore`/`interruptAfter` when given (as
 * LangGraph's invoke options), else the graph's from compile(). A name that is not a node is
 * refused, rather than a guard that never fires.
 */
function callBreakpoints(
  graph: GraphRuntimeOptions,
  config: RunnableConfig | undefined,
  option: "interruptBefore" | "interruptAfter",
): ReadonlySet<string> | "*" {
  const given = config?.[option];
  if (given === undefined) return graph[option];
  if (given === "*") return "*";
  if (!Array.isArray(given) || given.some((name) => typeof name !== "string"))
    throw new InvalidInputError(`config.${option} must be a list of node names or "*".`);
  for (const name of given) {
    if (!graph.spec.nodes.has(name))
      throw new InvalidInputError(
        `config.${option} names "${name}", which is not a node of graph "${graph.cacheName ?? graph.spec.name}". ` +
          `Its nodes: ${[...graph.spec.nodes.keys()].join(", ")}.`,
      );
  }
  return new Set(given);
}

/**
 * Refuses a subgraph's own static breakpoints (compile()'s, or its call's config): it would run
 * straight through them, and a review gate inside a subgraph (a sub-agent compiled with
 * `interruptBefore: ["tools"]`) would pass unreviewed. The parent's breakpoints and
 * interrupt() inside a subgraph pause as LangGraph's do.
 */
function refuseSubgraphBreakpoints(graph: GraphRuntimeOptions, config: RunnableConfig | undefined): void {
  for (const option of ["interruptBefore", "interruptAfter"] as const) {
    const own = config?.[option] ?? graph[option];
    const set = own === "*" || (Array.isArray(own) ? own.length > 0 : (own as ReadonlySet<string>).size > 0);
    if (set)
      throw new InvalidGraphError(
        `Graph "${graph.spec.name}" runs as a subgraph with its own ${option}, which is not supported: it would not pause there. ` +
          `Put the breakpoint on the parent (its ${option} names the subgraph's node, pausing before or after the whole subgraph), or call interrupt() inside the subgraph's node.`,
      );
  }
}

/** The caller's `config.metadata`, less the keys the engine owns and writes itself. */
function callerMetadata(config: RunnableConfig | undefined): Record<string, unknown> | undefined {
  const metadata = config?.metadata;
  if (metadata === undefined || !(TASK_SEED in metadata)) return metadata;
  const { [TASK_SEED]: _owned, ...rest } = metadata;
  return rest;
}

function requireDurability(config: RunnableConfig | undefined): Durability {
  const durability = requestedDurability(config) ?? "async";
  if (!isDurability(durability)) {
    throw new InvalidInputError(
      `config.durability must be "sync", "async" or "exit"; got ${JSON.stringify(config?.durability)}.`,
    );
  }
  return durability;
}

/**
 * Refuses a thread id a checkpointer cannot keep: none, not a string (a number was refused as
 * missing), or text Postgres cannot hold (NUL, half a surrogate pair: a query error before).
 */
function checkThreadId(threadId: unknown): asserts threadId is string {
  if (threadId === undefined || threadId === null || threadId === "") throw new MissingThreadIdError();
  if (typeof threadId !== "string")
    throw new InvalidInputError(
      `configurable.thread_id is a ${typeof threadId}; thread ids are strings: pass String(id) (the same string to resume later).`,
    );
  if (unstorableText(threadId) !== undefined)
    throw new InvalidInputError(
      "configurable.thread_id holds a NUL character or half a surrogate pair, which a checkpointer cannot store: give a thread id of plain text.",
    );
}

/** The call's `config.store`, refused when it is not a store (a store has `batch()`). */
function callStore(config: RunnableConfig | undefined): BaseStore | undefined {
  const store: unknown = config?.store;
  if (store === undefined || store === null) return undefined;
  if (!isStore(store)) {
    throw new InvalidInputError(
      "config.store takes a long-term store (InMemoryStore, PostgresStore, a BaseStore): an object with batch().",
    );
  }
  return store;
}

/**
 * Where a subgraph called from a running task stores its checkpoints: nowhere when compiled
 * with `checkpointer: false`; else in its own saver, as in LangGraph, unless the run says its
 * subgraphs share its saver (a worker's run: a saver of the subgraph's own, a MemorySaver above
 * all, would keep a paused subgraph in one process, and a resume on another would ask again);
 * else in the parent's.
 */
function subgraphSaver(graph: GraphRuntimeOptions, parent: TaskContext): CheckpointSaver | undefined {
  if (graph.checkpointer === false) return undefined;
  if (parent.subgraphsShareSaver && parent.checkpointer !== undefined) return parent.checkpointer;
  return graph.checkpointer ?? parent.checkpointer;
}

/**
 * Where a subgraph's nodes with a cachePolicy keep their writes: its own cache, not its caller's,
 * as LangGraph's; but on workers (`subgraphsCache`) the run's, under the run's graph name (so
 * every worker shares them, and clearing the graph's cache clears them), its keys scoped by the
 * subgraph's place (the node names of `ns`) and name. A subgraph without a name of its own
 * (`compile({ name })`) keeps nothing there: two such subgraphs called from one place could not
 * be told apart, and one would be given the other's writes.
 */
function subgraphCache(graph: GraphRuntimeOptions, parent: TaskContext, ns: string): StepEnv["cache"] {
  const own = graphCache(graph);
  const shared = parent.subgraphsCache;
  if (own === undefined || shared === undefined) return own;
  if (graph.spec.name === DEFAULT_GRAPH_NAME) return undefined;
  return { ...shared, scope: `${namespacePlace(ns)}\u0000${graph.spec.name}` };
}

/** What a subgraph at `ns` streams to: its own stream() call's emitter (`own`) and the run's (`run`). */
function nestedStream(own: Emitter | undefined, run: Emitter | undefined, ns: string): Emitter | undefined {
  const toRun = run === undefined ? undefined : nestedEmitter(run, ns);
  return own === undefined ? toRun : teeEmitter(own, toRun);
}

/**
 * Where and how a call runs. Inside a running node the graph is a subgraph: it shares the
 * parent's thread and saver, in its own namespace named after the parent task.
 */
export function runEnvironment(
  graph: GraphRuntimeOptions,
  config: RunnableConfig | undefined,
  emit: Emitter | undefined,
  asSubgraph = true,
): { env: StepEnv; subgraph: boolean } {
  const parent = asSubgraph ? currentTask() : undefined;
  if (parent !== undefined) {
    refuseSubgraphBreakpoints(graph, config);
    const call = parent.subgraphCalls;
    parent.subgraphCalls += 1;
    const own = `${parent.node}:${parent.taskId}${call > 0 ? `:${call}` : ""}`;
    const saver = subgraphSaver(graph, parent);
    const ns = parent.ns === "" ? own : `${parent.ns}|${own}`;
    const env: StepEnv = {
      spec: graph.spec,
      saver: saver ?? new MemorySaver(),
      key: { threadId: parent.threadId, ns },
      durable: saver !== undefined,
      subgraphsShareSaver: parent.subgraphsShareSaver,
      configurable: { ...config?.configurable, thread_id: parent.threadId },
      signal: config?.signal ?? parent.signal,
      progress: parent.progress,
      interruptBefore: NONE,
      interruptAfter: NONE,
      inheritedResume: parent.resumeValues,
      // The run's (all of it with subgraphs: true, else custom chunks), and its own stream() call's.
      emit: nestedStream(emit, parent.streamTo, ns),
      // Called with invoke(), it streams to the run what invoke returns: its output schema's keys.
      streamKeys: emit === undefined ? graph.spec.outputKeys : undefined,
      metadata: callerMetadata(config),
      durability: "sync",
      context: config?.context ?? parent.runContext,
      tags: config?.tags ?? parent.tags,
      recursionLimit: config?.recursionLimit ?? parent.recursionLimit,
      callbacks: callbackList(config?.callbacks) ?? parent.callbacks,
      // Its nodes' runs go under the node that runs it (the run its config's manager is a child of).
      chainParent: parentRunOf(config?.callbacks) ?? parent.chainRun,
      // The caller's store over the subgraph's own, as LangGraph's: on workers, the deployment's.
      store: callStore(config) ?? parent.store ?? graph.store,
      cache: subgraphCache(graph, parent, ns),
      subgraphsCache: parent.subgraphsCache,
    };
    return { env, subgraph: true };
  }
  const saver = graph.checkpointer === false ? undefined : graph.checkpointer;
  const threadId = config?.configurable?.thread_id;
  if (saver !== undefined) checkThreadId(threadId);
  const env: StepEnv = {
    spec: graph.spec,
    saver: saver ?? new MemorySaver(),
    key: { threadId: threadId ?? randomUUID(), ns: config?.configurable?.checkpoint_ns ?? "" },
    durable: saver !== undefined,
    configurable: { ...config?.configurable },
    // As LangGraph's, nodes always get a signal: a run's own, never aborted, when the call gave none.
    signal: config?.signal ?? new AbortController().signal,
    interruptBefore: callBreakpoints(graph, config, "interruptBefore"),
    interruptAfter: callBreakpoints(graph, config, "interruptAfter"),
    inheritedResume: undefined,
    emit,
    metadata: callerMetadata(config),
    durability: requireDurability(config),
    context: config?.context,
    tags: config?.tags ?? [],
    recursionLimit: config?.recursionLimit,
    callbacks: callbackList(config?.callbacks),
    chainParent: parentRunOf(config?.callbacks),
    store: callStore(config) ?? graph.store,
    cache: graphCache(graph),
  };
  return { env, subgraph: false };
}

/**
 * Where a thread's reads and updates (getState, getStateHistory, updateState; `what`) go: its
 * graph's checkpointer. Without one there is no thread: refused, as LangGraph's, rather than
 * read as an empty one (and an update dropped).
 */
export function threadEnvironment(graph: GraphRuntimeOptions, config: RunnableConfig, what: string): StepEnv {
  const { env } = runEnvironment(graph, config, undefined, false);
  if (!env.durable) throw new MissingCheckpointerError(what, "to keep a thread's state");
  return env;
}
