import { unknownKeysProblem } from "@layover/checkpoint";
import type { Command, Send } from "../command.ts";
import { DEFAULT_GRAPH_NAME, END, START } from "../constants.ts";
import { InvalidGraphError } from "../errors.ts";
import { checkedTimeout } from "../node-timeout.ts";
import type {
  ChannelsArgsOf,
  GraphInitOf,
  StateDefinition,
  StateDefinitionLike,
  StateOf,
  UpdateOf,
  ZodStateLike,
} from "../state/definition.ts";
import { buildGraphSpec } from "./build-spec.ts";
import { checkedCachePolicy } from "./cache-policy.ts";
import { checkedCache, checkedCheckpointer, checkedStore } from "./checked-parts.ts";
import { CompiledStateGraph } from "./compiled-graph.ts";
import { DrawingRecorder } from "./drawing-recorder.ts";
import { checkedErrorHandler, type ErrorHandler, withErrorHandlers } from "./error-handlers.ts";
import {
  mergedDefaults,
  type NodeDefaults,
  type NodeDefaultsOptions,
  withDefaults,
} from "./node-defaults.ts";
import { type AddNodeOptions, checkNodeOptions } from "./node-options.ts";
import type { BranchSpec, CompileOptions, GraphSpec, NodeConfig, NodeSpec, Router } from "./spec.ts";
import { definitionOf, type GraphSchemas, graphSchemas, type StateViews, stateViews } from "./state-views.ts";

export type { AddNodeOptions } from "./node-options.ts";

// biome-ignore lint/suspicious/noConfusingVoidType: a node may be a function that returns nothing.
type NodeResult<U> = U | Command<any, any> | undefined | void;

/**
 * A node of a graph whose state is `D`: `const review: GraphNode<typeof State> = async (state) => …`.
 * `Nodes`, as in LangGraph.js's `GraphNode<typeof State, "nodeB" | "nodeC">`, names where a
 * Command it returns may go (for readers: routing is checked at run time).
 */
export type GraphNode<D extends StateDefinitionLike, _Nodes extends string = string> = (
  state: StateOf<D>,
  config: NodeConfig,
) => NodeResult<UpdateOf<D>> | Promise<NodeResult<UpdateOf<D>>>;

type Route<Nodes extends string> = Nodes | typeof END | Send;

/**
 * A conditional edge's router over a graph whose state is `D`, as LangGraph.js's
 * `ConditionalEdgeRouter<typeof State, "b" | "c">`: it returns one of `Nodes`, END, a `Send`, or
 * a list of them.
 */
export type ConditionalEdgeRouter<D extends StateDefinitionLike, Nodes extends string = string> = (
  state: StateOf<D>,
  config: NodeConfig,
) => Route<Nodes> | Route<Nodes>[] | Promise<Route<Nodes> | Route<Nodes>[]>;

/** A conditional edge's router: a function of the state, or a LangChain runnable (its `invoke`). */
type ConditionalRouter<S> = ((state: S, config: NodeConfig) => unknown) | RunnableNode;
type PathMap = Record<string, string> | readonly string[];

/** LangGraph.js's object form of a conditional edge. */
export interface ConditionalEdges<S = any> {
  source: string;
  path: ConditionalRouter<S>;
  pathMap?: PathMap;
}

/** A node function; its first argument is the state (or a `Send`'s argument for push tasks). */
type NodeAction<S> = { bivarianceHack(state: S, config: NodeConfig): unknown }["bivarianceHack"];

/** A LangChain runnable (`RunnableLambda.from(fn)`, a `.pipe()` chain) as a node, as LangGraph takes one. */
interface RunnableNode {
  invoke(input: any, options?: any): unknown;
}

function isRunnable(action: unknown): action is RunnableNode {
  return (
    typeof action === "object" && action !== null && typeof (action as RunnableNode).invoke === "function"
  );
}

const RESERVED = new Set([START, END]);

type NodeEntryAction<S> = NodeAction<S> | CompiledStateGraph<any, any> | RunnableNode;
/** One node of addNode's or addSequence's list form: its name, function and options. */
type NodeEntry<S> = readonly [string, NodeEntryAction<S>, AddNodeOptions?];

function entriesOf<S>(nodes: ReadonlyArray<NodeEntry<S>> | Record<string, NodeEntryAction<S>>) {
  return Array.isArray(nodes)
    ? (nodes as ReadonlyArray<NodeEntry<S>>)
    : Object.entries(nodes).map(([n, fn]) => [n, fn] as const);
}

/** `value`'s entries under `keys`, when it is a plain object (a Send's argument may be anything). */
function pickKeys(value: unknown, keys: ReadonlySet<string>): unknown {
  if (typeof value !== "object" || value === null || Array.isArray(value)) return value;
  return Object.fromEntries(Object.entries(value).filter(([key]) => keys.has(key)));
}

/** Builds a graph over a state definition: nodes, edges, then `compile()`. */
export class StateGraph<
  D extends StateDefinitionLike | ZodStateLike | GraphInitOf | ChannelsArgsOf | object,
  S = StateOf<D>,
  U = UpdateOf<D>,
> {
  private readonly schemas: GraphSchemas;
  /** Nodes' own input schemas (`addNode(…, { input })`): their keys are the graph's too. */
  private readonly nodeInputs = new Map<string, StateDefinition>();
  private readonly nodes = new Map<string, NodeSpec>();
  /** setNodeDefaults's, applied at compile; `uncached`: nodes that said `cachePolicy: false`. */
  private nodeDefaults: NodeDefaults = {};
  private readonly uncached = new Set<string>();
  /** Nodes' own error handlers (`addNode(…, { errorHandler })`), made nodes at compile. */
  private readonly errorHandlers = new Map<string, ErrorHandler>();
  /** The builder's calls as getGraph() draws them. */
  private readonly drawn = new DrawingRecorder();
  private readonly edges: Array<readonly [string, string]> = [];
  private readonly joins: Array<readonly [readonly string[], string]> = [];
  private readonly branches = new Map<string, BranchSpec[]>();

  /**
   * The state schema, or LangGraph.js's `{ state, input?, output? }`: invoke accepts the input
   * schema's keys and returns the output schema's; nodes see the state's (or their own input
   * schema's). The second argument is `{ input?, output? }`, or the context schema, which
   * describes what `invoke(input, { context })` passes (nodes read it as `config.context`; not
   * checked, as in LangGraph.js).
   */
  constructor(state: D, second?: unknown);
  /** LangGraph.js's oldest form with the state type given: `new StateGraph<State>({ channels })`. */
  constructor(state: ChannelsArgsOf<S>, second?: unknown);
  constructor(state: unknown, second?: unknown) {
    this.schemas = graphSchemas(state, second);
  }

  /** Every key of the graph and who sees which, with the nodes' input schemas added so far. */
  private views(): StateViews {
    return stateViews(this.schemas, [...this.nodeInputs.values()]);
  }

  /**
   * A node's input is the state, or for a node that `Send`s target, the Send's argument: its
   * type (`I`) is the function's own, as in LangGraph.js.
   */
  addNode<I = S>(
    name: string,
    action: NodeAction<I> | CompiledStateGraph<any, any> | RunnableNode,
    options?: AddNodeOptions,
  ): this;
  /** Several nodes: `{ name: fn }`, or as LangGraph.js's list form `[[name, fn, options?], …]`. */
  addNode(nodes: Record<string, NodeEntryAction<S>> | ReadonlyArray<NodeEntry<S>>): this;
  addNode(
    nameOrNodes: string | Record<string, NodeEntryAction<S>> | ReadonlyArray<NodeEntry<S>>,
    action?: NodeAction<any> | CompiledStateGraph<any, any> | RunnableNode,
    options: AddNodeOptions = {},
  ): this {
    if (typeof nameOrNodes !== "string") {
      for (const [name, fn, own] of entriesOf(nameOrNodes)) this.addNode(name, fn, own);
      return this;
    }
    const name = nameOrNodes;
    if (RESERVED.has(name) || name.includes("|") || name.includes(":")) {
      throw new InvalidGraphError(`"${name}" cannot be a node name: START, END, "|" and ":" are reserved.`);
    }
    if (this.nodes.has(name)) throw new InvalidGraphError(`Node "${name}" is already in the graph.`);
    checkNodeOptions(name, options ?? {});
    // Checked before anything changes: a node refused is not added.
    const cachePolicy = checkedCachePolicy(options?.cachePolicy, `Node "${name}"`);
    const timeout = checkedTimeout(options?.timeout, `Node "${name}"`);
    const errorHandler = checkedErrorHandler(options?.errorHandler, `Node "${name}"`);
    const input =
      options?.input === undefined ? undefined : definitionOf(options.input, `Node "${name}"'s input schema`);
    if (action instanceof CompiledStateGraph) {
      const subgraph = action;
      // As in LangGraph, the graphs share the keys both have: the subgraph gets the parent's
      // values of its own keys, and the parent takes back only keys it has.
      const subgraphKeys = new Set(subgraph.spec.inputKeys ?? subgraph.spec.stateKeys);
      const run = async (state: unknown, config: NodeConfig) => {
        const parentKeys = new Set(this.views().state.fields.keys());
        const output = await subgraph.invoke(pickKeys(state, subgraphKeys) as never, {
          configurable: config.configurable,
          context: config.context,
          tags: [...config.tags],
          ...(config.signal ? { signal: config.signal } : {}),
        });
        return pickKeys(output, parentKeys);
      };
      this.nodes.set(name, { name, run, retryPolicy: options?.retryPolicy, isSubgraph: true, subgraph });
    } else if (typeof action === "function" || isRunnable(action)) {
      // A runnable gets the node's config: its callbacks, tags and metadata reach what it calls.
      const run =
        typeof action === "function"
          ? action
          : (state: unknown, config: NodeConfig) => action.invoke(state, config);
      this.nodes.set(name, { name, run, retryPolicy: options?.retryPolicy, isSubgraph: false });
    } else {
      throw new InvalidGraphError(
        `Node "${name}" must be a function, a compiled graph or a LangChain runnable (an object with invoke()).`,
      );
    }
    const node = this.nodes.get(name) as NodeSpec;
    if (input !== undefined) {
      this.nodeInputs.set(name, input);
      node.inputKeys = [...input.fields.keys()];
    }
    if (options?.defer === true) node.defer = true;
    if (options?.ends !== undefined) node.ends = [...options.ends];
    if (cachePolicy !== undefined) node.cachePolicy = cachePolicy;
    if (options?.cachePolicy === false) this.uncached.add(name);
    if (timeout !== undefined) node.timeout = timeout;
    if (errorHandler !== undefined) this.errorHandlers.set(name, errorHandler);
    this.drawn.node(name, options ?? {}, action, (value) => value instanceof CompiledStateGraph);
    return this;
  }

  /** A static edge; a list of sources is a join: `target` runs once all of them have run. */
  addEdge(source: string | readonly string[], target: string): this {
    this.drawn.edge(source, target);
    if (typeof source === "string") this.edges.push([source, target]);
    else if (source.length === 1) this.edges.push([source[0] as string, target]);
    else this.joins.push([[...source], target]);
    return this;
  }

  /**
   * After `source`, call `router(state)`; it returns node name(s), END or `Send`s. With a
   * `pathMap`, its result is a key of the map (or one of the listed names). As LangGraph.js's,
   * also `addConditionalEdges({ source, path, pathMap })`, and the router may be a LangChain
   * runnable (its `invoke`).
   */
  addConditionalEdges(source: ConditionalEdges<S>): this;
  addConditionalEdges(source: string, router: ConditionalRouter<S>, pathMap?: PathMap): this;
  addConditionalEdges(
    sourceOrEdges: string | ConditionalEdges<S>,
    router?: ConditionalRouter<S>,
    pathMap?: PathMap,
  ): this {
    const given =
      typeof sourceOrEdges === "object" && sourceOrEdges !== null
        ? sourceOrEdges
        : { source: sourceOrEdges, path: router as ConditionalRouter<S>, pathMap };
    const path = given.path;
    if (typeof path !== "function" && !isRunnable(path))
      throw new InvalidGraphError(
        `addConditionalEdges from "${String(given.source)}": the router must be a function (state) => node name(s), or a LangChain runnable; got ${path === null ? "null" : typeof path}.`,
      );
    const run: Router =
      typeof path === "function" ? (path as Router) : (state, config) => path.invoke(state, config);
    const map = Array.isArray(given.pathMap)
      ? Object.fromEntries(given.pathMap.map((name: string) => [name, name]))
      : ((given.pathMap ?? undefined) as Record<string, string> | undefined);
    const list = this.branches.get(given.source) ?? [];
    list.push({ router: run, pathMap: map });
    this.branches.set(given.source, list);
    return this;
  }

  /** Adds the nodes in order, each followed by the next; a list's entries may carry node options. */
  addSequence(nodes: ReadonlyArray<NodeEntry<S>> | Record<string, NodeEntryAction<S>>): this {
    const entries = entriesOf(nodes);
    if (entries.length === 0) throw new InvalidGraphError("addSequence needs at least one node.");
    let previous: string | undefined;
    for (const [name, fn, options] of entries) {
      this.addNode(name, fn, options);
      if (previous !== undefined) this.addEdge(previous, name);
      previous = name;
    }
    return this;
  }

  /** LangGraph's deprecated `setEntryPoint(node)`: `addEdge(START, node)`. */
  setEntryPoint(node: string): this {
    return this.addEdge(START, node);
  }

  /** LangGraph's deprecated `setFinishPoint(node)`: `addEdge(node, END)`. */
  setFinishPoint(node: string): this {
    return this.addEdge(node, END);
  }

  /**
   * LangGraph's graph-wide node policies: `retryPolicy`, `cachePolicy`, `timeout` and
   * `errorHandler` for every node that sets none of its own (`cachePolicy: false` on a node opts
   * out; an error handler's node takes the retry and timeout defaults), resolved at compile, so
   * before or after addNode; several calls merge field by field. Not a subgraph's.
   */
  setNodeDefaults(defaults: NodeDefaultsOptions): this {
    this.nodeDefaults = mergedDefaults(this.nodeDefaults, defaults);
    return this;
  }

  compile(options: CompileOptions = {}): CompiledStateGraph<S, U> {
    checkCompileOptions(options);
    if (options.checkpointer === true)
      throw new InvalidGraphError(
        "compile({ checkpointer: true }) (a subgraph that keeps its own state across calls) is not supported. " +
          "Leave checkpointer out: a subgraph uses its parent's checkpointer, can pause with interrupt() and resumes where it paused.",
      );
    const { state, ...views } = this.views();
    const spec = buildGraphSpec({
      name: options.name ?? DEFAULT_GRAPH_NAME,
      state,
      views,
      nodes: withDefaults(
        withErrorHandlers(this.nodes, this.errorHandlers, this.nodeDefaults.errorHandler),
        this.nodeDefaults,
        this.uncached,
      ),
      edges: this.edges,
      joins: this.joins,
      branches: this.branches,
    });
    return new CompiledStateGraph<S, U>({
      spec,
      checkpointer: checkedCheckpointer(options.checkpointer, "compile({ checkpointer })"),
      interruptBefore: breakpoints(spec, options.interruptBefore, "interruptBefore"),
      interruptAfter: breakpoints(spec, options.interruptAfter, "interruptAfter"),
      store: checkedStore(options.store, "compile({ store })"),
      cache: checkedCache(options.cache, "compile({ cache })"),
      drawing: this.drawn.drawing(this.branches),
      description: options.description,
    });
  }
}

const COMPILE_OPTIONS = [
  "checkpointer",
  "interruptBefore",
  "interruptAfter",
  "name",
  "description",
  "store",
  "cache",
] as const satisfies readonly (keyof CompileOptions)[];

/**
 * Refuses an option compile() does not take: a misspelt `interruptbefore` compiled a graph that
 * never paused before its risky node. LangGraph's `transformers` (v3 stream events) is not
 * supported, and said so rather than dropped.
 */
function checkCompileOptions(options: CompileOptions): void {
  if ((options as { transformers?: unknown }).transformers !== undefined)
    throw new InvalidGraphError(
      "compile({ transformers }) (LangGraph's streamEvents v3 extensions) is not supported: leave it out; streamEvents gives version v2's events.",
    );
  const unknown = unknownKeysProblem("compile()", options, COMPILE_OPTIONS);
  if (unknown !== undefined) throw new InvalidGraphError(unknown);
  if (options.description !== undefined && typeof options.description !== "string")
    throw new InvalidGraphError(
      `compile({ description }) must be a string; got ${typeof options.description}.`,
    );
}

/** Breakpoints at nodes of `spec` (an error handler's too, as LangGraph's). */
function breakpoints(
  spec: GraphSpec,
  names: readonly string[] | "*" | undefined,
  option: string,
): ReadonlySet<string> | "*" {
  if (names === "*") return "*";
  for (const name of names ?? []) {
    if (!spec.nodes.has(name)) throw new InvalidGraphError(`${option} names "${name}", which is not a node.`);
  }
  return new Set(names ?? []);
}
