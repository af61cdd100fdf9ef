// LangGraph.js 1.7.3's StateGraph.setNodeDefaults: graph-wide retry, cache and timeout policies
// and error handler for the nodes that set none of their own, resolved when the graph compiles.
import { InvalidGraphError } from "../errors.ts";
import { checkedTimeout } from "../node-timeout.ts";
import { checkedCachePolicy } from "./cache-policy.ts";
import { checkedErrorHandler, type ErrorHandler } from "./error-handlers.ts";
import type { CachePolicy, NodeSpec, RetryPolicy, TimeoutPolicy } from "./spec.ts";

export interface NodeDefaultsOptions {
  /** Retries of every node without its own retryPolicy. */
  retryPolicy?: RetryPolicy | undefined;
  /** The cache policy of every node without its own (one with `cachePolicy: false` opts out). */
  cachePolicy?: CachePolicy | boolean | undefined;
  /** The timeout of every node without its own. */
  timeout?: number | TimeoutPolicy | undefined;
  /** The error handler of every node without its own (one node, `__default_error_handler__`). */
  errorHandler?: ErrorHandler | undefined;
}

export interface NodeDefaults {
  retryPolicy?: RetryPolicy;
  cachePolicy?: CachePolicy;
  timeout?: TimeoutPolicy;
  errorHandler?: ErrorHandler;
}

const KEYS = ["retryPolicy", "cachePolicy", "timeout", "errorHandler"];

/** `given` over `current`, field by field; refused (nothing changed) when it is not such defaults. */
export function mergedDefaults(current: NodeDefaults, given: NodeDefaultsOptions): NodeDefaults {
  if (typeof given !== "object" || given === null)
    throw new InvalidGraphError(
      "setNodeDefaults takes { retryPolicy?, cachePolicy?, timeout?, errorHandler? }.",
    );
  const unknown = Object.keys(given).filter((key) => !KEYS.includes(key));
  if (unknown.length > 0)
    throw new InvalidGraphError(
      `setNodeDefaults does not take ${unknown.map((key) => `"${key}"`).join(", ")}: it takes retryPolicy, cachePolicy, timeout and errorHandler.`,
    );
  const errorHandler = checkedErrorHandler(given.errorHandler, "setNodeDefaults");
  const merged = { ...current };
  if (errorHandler !== undefined) merged.errorHandler = errorHandler;
  if (given.retryPolicy !== undefined) merged.retryPolicy = given.retryPolicy;
  if (given.cachePolicy !== undefined) {
    const cachePolicy = checkedCachePolicy(given.cachePolicy, "setNodeDefaults");
    if (cachePolicy === undefined) delete merged.cachePolicy;
    else merged.cachePolicy = cachePolicy;
  }
  if (given.timeout !== undefined) {
    const timeout = checkedTimeout(given.timeout, "setNodeDefaults");
    if (timeout === undefined) delete merged.timeout;
    else merged.timeout = timeout;
  }
  return merged;
}

/**
 * `nodes` with `defaults` where a node set none of its own; `uncached` said `cachePolicy: false`.
 * An error handler's node takes the retry and timeout defaults, never the cache's.
 */
export function withDefaults(
  nodes: ReadonlyMap<string, NodeSpec>,
  defaults: NodeDefaults,
  uncached: ReadonlySet<string>,
): Map<string, NodeSpec> {
  const resolved = new Map<string, NodeSpec>();
  for (const [name, node] of nodes) {
    const own = { ...node };
    own.retryPolicy ??= defaults.retryPolicy;
    if (own.timeout === undefined && defaults.timeout !== undefined) own.timeout = defaults.timeout;
    if (
      own.cachePolicy === undefined &&
      defaults.cachePolicy !== undefined &&
      !uncached.has(name) &&
      !node.isErrorHandler
    )
      own.cachePolicy = defaults.cachePolicy;
    resolved.set(name, own);
  }
  return resolved;
}
