// The graphs a worker serves, from its graph module: checked when the worker starts, so a
// mistake in the module stops the worker with a message naming the graph, instead of failing
// every run that reaches it.
import type { BaseCache, BaseStore, CheckpointSaver } from "@layover/checkpoint";
import {
  assertJsonSerialisable,
  type CompiledStateGraph,
  callbackList,
  type Durability,
  isDurability,
  parseDuration,
} from "@layover/graph";
import { InvalidConfigError, textProblem } from "@layover/runtime";
import type { ServedGraph } from "./context.ts";

/** A graph module's entry: a compiled graph, or one with its interrupt defaults. */
export type GraphEntry =
  | CompiledStateGraph<any, any>
  | {
      graph: CompiledStateGraph<any, any>;
      /** The graph's interrupts' default timeout: milliseconds, or a duration such as "15m". */
      interruptTimeout?: number | string;
      /** What its timed-out interrupts resume with (JSON). */
      onTimeout?: unknown;
      /** The graph's runs' durability unless their start says otherwise. @defaultValue "async" */
      durability?: Durability;
      /**
       * LangChain callback handlers (or a `CallbackManager`) the graph's nodes get on this worker,
       * as `invoke(input, { callbacks })` gives them in-process: the chat models and tools nodes
       * call report to them (token and cost accounting, a LangSmith tracer).
       */
      callbacks?: unknown;
    };

const OPTIONS = new Set(["graph", "interruptTimeout", "onTimeout", "durability", "callbacks"]);

function describe(value: unknown): string {
  if (Array.isArray(value)) return "an array";
  if (value === null || typeof value !== "object") return JSON.stringify(value) ?? typeof value;
  return `an object with keys ${Object.keys(value).join(", ") || "(none)"}`;
}

/** A compiled graph from this or any copy of @layover/graph (duck-typed: `instanceof` would miss a second copy). */
function isCompiled(value: unknown): value is CompiledStateGraph<any, any> {
  const graph = value as { withCheckpointer?: unknown; inputJsonSchema?: unknown } | null;
  return typeof graph?.withCheckpointer === "function" && typeof graph.inputJsonSchema === "function";
}

function servedEntry(
  id: string,
  entry: unknown,
): Omit<ServedGraph, "graph"> & { graph: CompiledStateGraph<any, any> } {
  const refuse = (problem: string): never => {
    throw new InvalidConfigError(`Graph "${id}" in the graph module: ${problem}`);
  };
  if (isCompiled(entry)) return { graph: entry };
  if (typeof (entry as { compile?: unknown } | null)?.compile === "function")
    refuse("a StateGraph that was not compiled: export builder.compile().");
  if (typeof entry !== "object" || entry === null || Array.isArray(entry) || !("graph" in entry))
    refuse(
      `must be a compiled graph, or { graph, interruptTimeout?, onTimeout?, durability?, callbacks? }; got ${describe(entry)}.`,
    );
  const options = entry as Record<string, unknown>;
  const unknown = Object.keys(options).filter((key) => !OPTIONS.has(key));
  if (unknown.length > 0) refuse(`unknown option ${unknown.join(", ")}: use ${[...OPTIONS].join(", ")}.`);
  if (!isCompiled(options.graph))
    refuse(`"graph" must be a compiled graph (builder.compile()); got ${describe(options.graph)}.`);
  let timeoutMs: number | undefined;
  if (options.interruptTimeout !== undefined) {
    try {
      timeoutMs = parseDuration(options.interruptTimeout as number | string);
    } catch {
      timeoutMs = Number.NaN;
    }
    if (!(timeoutMs > 0))
      refuse(
        `interruptTimeout must be milliseconds above 0 or a duration such as "15m", at most a century; got ${JSON.stringify(options.interruptTimeout)}.`,
      );
  }
  try {
    assertJsonSerialisable(options.onTimeout, "onTimeout");
  } catch (error) {
    refuse(`${(error as Error).message} It is what timed-out interrupts resume with, stored as JSON.`);
  }
  if (options.durability !== undefined && !isDurability(options.durability))
    refuse(`durability must be "sync", "async" or "exit"; got ${JSON.stringify(options.durability)}.`);
  let callbacks: readonly object[] | undefined;
  try {
    callbacks = callbackList(options.callbacks);
  } catch {
    refuse("callbacks must be a list of LangChain callback handlers or a CallbackManager.");
  }
  return {
    graph: options.graph as CompiledStateGraph<any, any>,
    timeoutMs,
    onTimeout: options.onTimeout,
    durability: options.durability as Durability | undefined,
    callbacks,
  };
}

/**
 * A served graph's long-term store: the worker's, unless the graph was compiled with a store of
 * its own (one compiled with an InMemoryStore is refused before: each worker would keep its own,
 * and a run's memories would depend on which worker ran its job).
 */
function storeBound(graph: CompiledStateGraph<any, any>, store: BaseStore): CompiledStateGraph<any, any> {
  return graph.store === undefined ? graph.withStore(store) : graph;
}

/**
 * Whether `value` is an instance of a class named `name` or of a subclass of one: Layover's and
 * LangGraph's in-memory stores and caches alike (one package cannot import the other's class).
 */
function descendsFrom(value: unknown, name: string): boolean {
  let proto = typeof value === "object" && value !== null ? Object.getPrototypeOf(value) : null;
  while (proto !== null) {
    if (proto.constructor?.name === name) return true;
    proto = Object.getPrototypeOf(proto);
  }
  return false;
}

/** Refuses a graph compiled with an InMemoryStore or InMemoryCache, or a subclass of one (see storeBound, cacheBound). */
function checkOwnStoreAndCache(id: string, graph: CompiledStateGraph<any, any>): void {
  if (descendsFrom(graph.store, "InMemoryStore"))
    throw new InvalidConfigError(
      `Graph "${id}" in the graph module: compiled with an InMemoryStore, which each worker would keep apart. Compile it without a store: workers give their graphs the deployment's Postgres store (client.store reaches it too).`,
    );
  if (descendsFrom(graph.cache, "InMemoryCache"))
    throw new InvalidConfigError(
      `Graph "${id}" in the graph module: compiled with an InMemoryCache, which each worker would keep apart. Compile it without a cache: workers give their graphs the deployment's Postgres cache.`,
    );
}

/**
 * A served graph's node cache: the worker's, unless the graph was compiled with a cache of its
 * own; its entries kept under the graph id, its failures told to `onError` (the worker's log: a
 * run goes on without the cache). An InMemoryCache is refused, as a store is.
 */
function cacheBound(
  id: string,
  graph: CompiledStateGraph<any, any>,
  cache: BaseCache,
  onError: ((error: unknown, graphId: string) => void) | undefined,
): CompiledStateGraph<any, any> {
  const report = onError === undefined ? undefined : (error: unknown) => onError(error, id);
  return graph.withCache(graph.cache ?? cache, id, report);
}

/**
 * The module's graphs, each checked (its id one Postgres can store as it is: no NUL, no half a
 * surrogate pair, which it would store as another id no start could name), not yet bound.
 */
export function checkedEntries(entries: unknown): [string, ReturnType<typeof servedEntry>][] {
  if (typeof entries !== "object" || entries === null || Array.isArray(entries) || isCompiled(entries))
    throw new InvalidConfigError(
      `The graph module must export its graphs as an object of graph id → compiled graph ({ "my-graph": graph }); got ${describe(entries)}.`,
    );
  return Object.entries(entries).map(([id, entry]) => {
    const problem = textProblem(id);
    if (problem !== undefined)
      throw new InvalidConfigError(`The graph module's graph id ${JSON.stringify(id)} must be ${problem}.`);
    const served = servedEntry(id, entry);
    checkOwnStoreAndCache(id, served.graph);
    return [id, served];
  });
}

/** The module's graphs, checked, each bound to the worker's saver, store and node cache. */
export function servedGraphs(
  entries: unknown,
  saver: CheckpointSaver,
  store: BaseStore,
  cache: BaseCache,
  onCacheError?: (error: unknown, graphId: string) => void,
): Map<string, ServedGraph> {
  const served = new Map<string, ServedGraph>();
  for (const [id, { graph, ...options }] of checkedEntries(entries)) {
    const bound = cacheBound(id, storeBound(graph, store), cache, onCacheError);
    served.set(id, { graph: bound.withCheckpointer(saver), ...options });
  }
  return served;
}
