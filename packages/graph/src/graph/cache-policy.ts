// LangGraph's node cache, the parts that need no I/O: the policies nodes and tasks are given, and
// where a task's writes are kept — a namespace per graph and node, a key from the task's input.
import { createHash } from "node:crypto";
import { type BaseCache, type CacheEntry, type CacheFullKey, jsonSerializer } from "@layover/checkpoint";
import { InvalidGraphError } from "../errors.ts";
import type { CachePolicy } from "./spec.ts";

/** A run's node cache, and the name its graph's entries are kept under (its name; on workers, its graph id). */
export interface GraphCache {
  cache: BaseCache;
  name: string;
  /** Told when the cache fails (a read, a write): the run goes on without it. @defaultValue a process warning */
  onError?: ((error: unknown) => void) | undefined;
  /**
   * A subgraph's place, when it keeps its nodes' writes in its run's cache under the run's graph
   * name (on workers): its nodes' keys are told apart from the graph's and other subgraphs'.
   */
  scope?: string | undefined;
}

/** The name a node's (or task's) cache keys are made with: scoped by its subgraph's place, if any. */
export function scopedNode(cache: GraphCache, node: string): string {
  return cache.scope === undefined ? node : `${cache.scope}\u0000${node}`;
}

/**
 * A cache that fails is reported, and the run goes on as if it had nothing: it only saves work,
 * and a run that fails because of it would do the work again anyway.
 */
function failed(cache: GraphCache, error: unknown, doing: string): void {
  if (cache.onError !== undefined) {
    cache.onError(error);
    return;
  }
  const reason = error instanceof Error ? error.message : String(error);
  process.emitWarning(
    `The node cache failed to ${doing} (graph "${cache.name}"): ${reason}. The run goes on without it.`,
    {
      code: "LAYOVER_NODE_CACHE",
    },
  );
}

/** The cache's entries of `keys`; none when it fails (reported). */
export async function readCache(cache: GraphCache, keys: CacheFullKey[]) {
  try {
    return await cache.cache.get(keys);
  } catch (error) {
    failed(cache, error, "read");
    return [];
  }
}

/** Keeps `entries`; a cache that fails is reported, and nothing else happens. */
export async function writeCache(cache: GraphCache, entries: CacheEntry[]): Promise<void> {
  try {
    await cache.cache.set(entries);
  } catch (error) {
    failed(cache, error, "write");
  }
}

/** A cache's namespaces of nodes' writes begin with this label, as LangGraph's. */
export const CACHE_NS = "__pregel_ns_writes";

/** A node's or task's cache policy as given (`true`: kept until cleared), checked; undefined: none. */
export function checkedCachePolicy(policy: unknown, what: string): CachePolicy | undefined {
  if (policy === undefined || policy === false) return undefined;
  if (policy === true) return {};
  const { ttl, keyFunc, ...rest } = (
    typeof policy === "object" && policy !== null ? policy : {}
  ) as CachePolicy;
  const problem =
    typeof policy !== "object" || policy === null
      ? "is true, false or { ttl?, keyFunc? }"
      : Object.keys(rest).length > 0
        ? `has only ttl and keyFunc; got ${Object.keys(rest).join(", ")}`
        : ttl !== undefined && !(typeof ttl === "number" && Number.isFinite(ttl) && ttl > 0)
          ? `ttl is seconds above 0; got ${JSON.stringify(ttl)}`
          : keyFunc !== undefined && typeof keyFunc !== "function"
            ? "keyFunc is a function of the input"
            : undefined;
  if (problem !== undefined) throw new InvalidGraphError(`${what}: cachePolicy ${problem}.`);
  return { ttl, keyFunc };
}

/**
 * Where a task's writes are kept: under the graph's cache name (its name, or on workers its
 * graph id), and a hash of the node's (or task's) name and of the text its policy's keyFunc
 * makes of `[input]`, as LangGraph's (by default the checkpoint serializer's). A keyFunc that gives no
 * string fails the task with a typed error.
 */
export function cacheKey(graph: string, node: string, policy: CachePolicy, input: unknown): CacheFullKey {
  // The checkpoint serializer's text: a Map, a Set, a Date each their own (JSON gives a Map "{}").
  const text = policy.keyFunc === undefined ? jsonSerializer.dumps([input]) : policy.keyFunc([input]);
  if (typeof text !== "string")
    throw new InvalidGraphError(
      `The cachePolicy.keyFunc of "${node}" must return a string (the cache key's text); got ${typeof text}.`,
    );
  return [[CACHE_NS, graph], createHash("sha256").update(`${node}\u0000${text}`).digest("hex")];
}

/** The namespace a graph's nodes and tasks keep their writes under. */
export function cacheNamespace(graph: string): string[] {
  return [CACHE_NS, graph];
}
