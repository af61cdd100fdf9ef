import type { BaseCache, BaseStore, CheckpointSaver, TimeoutPolicy } from "@layover/checkpoint";
import type { InterruptOptions } from "../interrupt-options.ts";
import type { StateDefinition } from "../state/definition.ts";

/** Retry a failing node with exponential backoff. An interrupt is never retried. */
export interface RetryPolicy {
  /** Attempts in all, the first included. @defaultValue 3 */
  maxAttempts?: number;
  /** Milliseconds before the first retry. @defaultValue 500 */
  initialInterval?: number;
  /** Multiplier applied to the interval after each retry. @defaultValue 2 */
  backoffFactor?: number;
  /** Longest wait between attempts, in milliseconds. @defaultValue 128_000 */
  maxInterval?: number;
  /** Randomise each wait by up to ±25% so retries of many runs spread out. @defaultValue true */
  jitter?: boolean;
  /**
   * Which errors to retry. @defaultValue as LangGraph.js: every error except aborts and
   * cancellations, HTTP client errors (status 400–407, 409), ECONNABORTED, an exhausted quota,
   * and Layover's own typed errors
   */
  retryOn?: (error: unknown) => boolean;
}

/**
 * LangGraph's cache policy: a node (or task) whose writes are kept in the graph's cache
 * (`compile({ cache })`) under a key made from its input, and given back for the same input
 * instead of running it, until `ttl` passes.
 */
export interface CachePolicy {
  /** Seconds an entry is kept. @defaultValue until the cache is cleared */
  ttl?: number | undefined;
  /** The key's text from the node's input (its state, a Send's argument, a task's arguments). @defaultValue JSON.stringify */
  keyFunc?: ((input: unknown) => string) | undefined;
}

/** LangGraph's `runtime.executionInfo`. */
export interface ExecutionInfo {
  readonly nodeAttempt: number;
  checkpointId: string;
  checkpointNs: string;
  taskId: string;
  threadId: string;
}

/** What a node receives as its second argument. */
export interface NodeConfig {
  configurable: Record<string, unknown>;
  /** The call's run-scoped values (`invoke(input, { context })`, LangGraph's context): not stored. */
  context: any;
  /** The call's `config.tags`. */
  tags: readonly string[];
  /** The call's `config.recursionLimit` (25 when it gives none), as LangGraph hands it to nodes. */
  recursionLimit: number;
  /**
   * Aborts when the run is cancelled or the call's `config.signal` aborts (a timed-out attempt's
   * too); as LangGraph's, there is one when the call gave none.
   */
  signal: AbortSignal;
  /** Send a chunk to `stream(…, { streamMode: "custom" })`. */
  writer: (chunk: unknown) => void;
  /** LangGraph's `runtime.interrupt`: `interrupt()` itself, for a node or tool that takes it from here. */
  interrupt: <I = unknown, R = any>(value: I, options?: InterruptOptions<R>) => R;
  /** LangGraph's `runtime.executionInfo`: where the task runs, and which of its attempts this is (from 1). */
  executionInfo: ExecutionInfo;
  /** LangGraph's: tells the node's idleTimeout the node is making progress; only a timed node has it. */
  heartbeat?: () => void;
  metadata: {
    langgraph_node: string;
    langgraph_step: number;
    langgraph_task_id: string;
    langgraph_triggers: readonly string[];
    /** `["__pregel_pull", node]`, as LangGraph's; a `Send`'s task has `["__pregel_push", node]` (LangGraph's has its index). */
    langgraph_path: readonly unknown[];
    /** The task's namespace (`node:taskId`, under its parent task's in a subgraph), as LangGraph's. */
    langgraph_checkpoint_ns: string;
    checkpoint_ns: string;
    /** The caller's `configurable.thread_id`: none when the run was given none, as LangGraph's. */
    thread_id?: string;
    /** The caller's `config.metadata` keys, as LangGraph passes them on. */
    [key: string]: unknown;
  };
  /**
   * LangChain callbacks, where the call gave some or a stream ("messages", streamEvents) listens:
   * a LangChain CallbackManager of the node's run (its run id the task's), which the chat models
   * and tools the node calls with this config report to (or without one: they find it in
   * LangChain's context), and `dispatchCustomEvent` too. Undefined where nothing listens.
   */
  callbacks?: readonly object[] | object;
  /** The graph's long-term store (`compile({ store })`; a worker's Postgres store); undefined without one. */
  store?: BaseStore | undefined;
  /**
   * Stable for this task across retries, resumes and re-deliveries: use it as the
   * idempotency key of side effects (the node may run more than once) — under durability
   * "exit" too, where supersteps that were never stored run again after a crash. A subgraph a
   * task calls keeps its nodes' keys while that task runs again; once finished it keeps its
   * result for the same input (a retry of the task runs it anew).
   */
  idempotencyKey: string;
}

/**
 * LangGraph.js's name for the config a node (or a tool it calls) is given: `NodeConfig` with every
 * field optional, so a LangChain tool's config is one too.
 */
export type LangGraphRunnableConfig<ContextType = any> = Partial<Omit<NodeConfig, "context" | "metadata">> & {
  context?: ContextType;
  metadata?: Record<string, unknown>;
};

export type NodeFunction = (input: any, config: NodeConfig) => unknown;

/** What a snapshot needs of a subgraph node's compiled graph (its state, from a saver). */
export interface SubgraphLike {
  spec: GraphSpec;
  checkpointer: CheckpointSaver | false | undefined;
  withCheckpointer(saver: CheckpointSaver): SubgraphLike & {
    getState(
      config: { configurable: Record<string, unknown> },
      /** `atNamespace`: the config's namespace is this graph's own (not one of its subgraphs' to find). */
      options?: { subgraphs?: boolean; atNamespace?: boolean },
    ): Promise<unknown>;
  };
}

/**
 * The graph whose checkpoints a `checkpoint_ns` (`node:taskId|node:taskId`, a subgraph task's
 * `state` config) names: each segment's node's compiled subgraph, bound to the saver it stores in
 * (its own, else its parent's), as LangGraph's getState and getStateHistory find it. `graph`
 * itself for the root namespace, or where a segment's node runs no compiled subgraph (one a node
 * calls inside its function, which no spec names).
 */
export function graphAtNamespace<G extends SubgraphLike>(graph: G, ns: string | undefined): G {
  if (ns === undefined || ns === "") return graph;
  let at: SubgraphLike = graph;
  for (const segment of ns.split("|")) {
    const subgraph = at.spec.nodes.get(segment.split(":")[0] as string)?.subgraph;
    const saver = subgraph?.checkpointer === false ? undefined : (subgraph?.checkpointer ?? at.checkpointer);
    if (subgraph === undefined || saver === undefined || saver === false) return graph;
    at = subgraph.withCheckpointer(saver);
  }
  return at as G;
}

/** LangGraph's node timeout (`addNode(…, { timeout })`, `task()`'s, `entrypoint()`'s, a Send's). */
export type { TimeoutPolicy } from "@layover/checkpoint";

export interface NodeSpec {
  name: string;
  run: NodeFunction;
  retryPolicy: RetryPolicy | undefined;
  /** A compiled subgraph: its output is the subgraph's whole state, filtered to this graph's keys. */
  isSubgraph: boolean;
  /** The compiled subgraph a subgraph node runs: getState shows its state under the node's task. */
  subgraph?: SubgraphLike | undefined;
  /** LangGraph's `defer`: the node runs only in a superstep no other node's pull task runs in. */
  defer?: boolean | undefined;
  /** The keys the node sees, from its own input schema (`addNode(…, { input })`); undefined: the graph's. */
  inputKeys?: readonly string[] | undefined;
  /** Its writes are kept in the graph's cache (`addNode(…, { cachePolicy })`). */
  cachePolicy?: CachePolicy | undefined;
  /** How long an attempt may run, or go without progress (`addNode(…, { timeout })`). */
  timeout?: TimeoutPolicy | undefined;
  /** The node that runs in this one's place when its task fails (`addNode(…, { errorHandler })`). */
  errorHandler?: string | undefined;
  /** An error handler's node: never cached, never handled itself. */
  isErrorHandler?: boolean | undefined;
  /** The nodes its `Command`s may go to (`addNode(…, { ends })`): they count as reachable. */
  ends?: readonly string[] | undefined;
}

export type Router = (state: any, config: NodeConfig) => unknown;

export interface BranchSpec {
  router: Router;
  /** Router result → node; a list means "these names, as they are". */
  pathMap: Readonly<Record<string, string>> | undefined;
}

export interface JoinSpec {
  sources: readonly string[];
  target: string;
  channel: string;
}

export type ChannelSpec =
  /** `lastWins`: several writes in one superstep keep the last (an unguarded UntrackedValue). */
  | { kind: "last"; lastWins?: boolean }
  | { kind: "reduce"; reducer: (current: any, update: any) => any }
  | { kind: "trigger" }
  | { kind: "join"; sources: readonly string[] };

/** A compiled graph's structure: everything the pure superstep functions need. */
export interface GraphSpec {
  name: string;
  state: StateDefinition;
  /** In insertion order: the order tasks are planned and their writes applied. */
  nodes: ReadonlyMap<string, NodeSpec>;
  /** node (or START) → the trigger/join writes its static edges make. */
  edgeWrites: ReadonlyMap<string, ReadonlyArray<readonly [string, unknown]>>;
  branches: ReadonlyMap<string, readonly BranchSpec[]>;
  /** node → channels that trigger it. */
  triggers: ReadonlyMap<string, readonly string[]>;
  channels: ReadonlyMap<string, ChannelSpec>;
  /** State keys never stored (UntrackedValue); undefined when there are none. */
  untracked?: ReadonlySet<string> | undefined;
  /** The deferred nodes (`addNode(…, { defer: true })`); undefined when there are none. */
  deferred?: ReadonlySet<string> | undefined;
  /** Every key the graph stores: the state's, and its input, output and nodes' input schemas'. */
  stateKeys: readonly string[];
  /** The keys a node sees unless it has an input schema (the state schema's); undefined: stateKeys. */
  nodeKeys?: readonly string[] | undefined;
  /** The keys invoke's input may hold (the input schema's); undefined: stateKeys. */
  inputKeys?: readonly string[] | undefined;
  /** The keys invoke returns (the output schema's, else the state schema's); undefined: stateKeys. */
  outputKeys?: readonly string[] | undefined;
  /**
   * The input schema, when the graph has one apart from its state: it checks (and transforms)
   * an input's values before the state schema does, as LangGraph parses an input with it.
   */
  input?: StateDefinition | undefined;
  /**
   * A graph of single values (an `entrypoint`): invoke's input is stored whole under `input`,
   * and what invoke, stream and getState show of the state is the value under `output`. Its
   * node is given the input's value, and finds the value under `previous` (what the thread's
   * last run kept) with `getPreviousState()`.
   */
  root?:
    | {
        input: string;
        output: string;
        previous: string;
        /** What its node writes for a value it returned (or updateState gave as it). */
        writes: (returned: unknown) => Record<string, unknown>;
      }
    | undefined;
}

export interface CompileOptions {
  /**
   * The saver; `false`: a subgraph that cannot pause. LangGraph's `true` (a subgraph keeping its
   * own state across calls) is refused with InvalidGraphError: it is not supported.
   */
  checkpointer?: CheckpointSaver | boolean | undefined;
  interruptBefore?: readonly string[] | "*" | undefined;
  interruptAfter?: readonly string[] | "*" | undefined;
  name?: string | undefined;
  /** What the graph does, kept as the compiled graph's `description` (LangGraph's, for a supervisor's handoff). */
  description?: string | undefined;
  /**
   * The long-term store every node reaches as `config.store` (and `getStore()`): memory shared
   * across threads. On workers, leave it out: a worker gives its graphs its Postgres store.
   */
  store?: BaseStore | undefined;
  /**
   * The cache of nodes (and tasks) with a `cachePolicy`. On workers, leave it out: a worker gives
   * its graphs the deployment's Postgres cache.
   */
  cache?: BaseCache | undefined;
}
