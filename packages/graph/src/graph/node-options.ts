// What addNode takes beside a node's name and function, and the checks done before it is added.
import { InvalidGraphError } from "../errors.ts";
import type { TimeoutPolicy } from "../node-timeout.ts";
import type { StateDefinitionLike, ZodStateLike } from "../state/definition.ts";
import type { ErrorHandler } from "./error-handlers.ts";
import type { CachePolicy, RetryPolicy } from "./spec.ts";

export interface AddNodeOptions {
  retryPolicy?: RetryPolicy;
  /**
   * Nodes a Command from this node may go to: compile counts them reachable, as LangGraph's
   * (getGraph() draws them; routing is checked at run time).
   */
  ends?: readonly string[];
  /** Accepted as LangGraph.js's: getGraph() shows it on the node; nothing else reads it. */
  metadata?: Record<string, unknown>;
  /**
   * The subgraphs the node calls from its code, as LangGraph.js's: getGraph({ xray }) draws the
   * last in the node's place (a node that is a compiled graph draws itself).
   */
  subgraphs?: readonly unknown[];
  /**
   * Accepted as LangGraph.js's (what LangSmith's tracer sends of the node's own run); Layover
   * does not trace nodes as runs of their own, so there is nothing for it to shape.
   */
  tracePolicy?: unknown;
  /**
   * The node's own input schema: it sees only these keys. Keys the graph's state lacks become the
   * graph's too (private state between nodes: a node writes them, this one reads them).
   */
  input?: StateDefinitionLike | ZodStateLike;
  /**
   * LangGraph's deferred node: it runs only once no other node would run (every other branch
   * has finished), once for all that reached it: a map-reduce's reduce.
   */
  defer?: boolean;
  /**
   * LangGraph's node cache: the node's writes are kept in the graph's cache (`compile({ cache })`)
   * for its input, and given back for the same input instead of running it. `true`: kept until
   * the cache is cleared; `false` or left out: the node always runs.
   */
  cachePolicy?: CachePolicy | boolean | undefined;
  /**
   * LangGraph's node timeout: milliseconds one attempt may run (a number, or `runTimeout`), or go
   * without progress (`idleTimeout`; `refreshOn: "heartbeat"` counts only config.heartbeat()).
   * A timed-out attempt fails with NodeTimeoutError, which a retryPolicy retries.
   */
  timeout?: number | TimeoutPolicy | undefined;
  /**
   * LangGraph's node error handler: when the node fails (its retry policy exhausted), this runs
   * in its place in the same superstep with the node's input and a NodeError, and its update or
   * Command (`goto` a compensation node) is applied instead. It may ask with interrupt().
   */
  errorHandler?: ErrorHandler | undefined;
}

const NODE_OPTIONS = [
  "retryPolicy",
  "ends",
  "metadata",
  "subgraphs",
  "tracePolicy",
  "input",
  "defer",
  "cachePolicy",
  "timeout",
  "errorHandler",
];

/** Refuses node options Layover would otherwise ignore while they change what the graph does. */
export function checkNodeOptions(name: string, options: object): void {
  for (const [key, value] of Object.entries(options)) {
    if (value === undefined) continue;
    if (key === "defer" && typeof value !== "boolean")
      throw new InvalidGraphError(`Node "${name}": defer is true or false; got ${JSON.stringify(value)}.`);
    if (key === "ends" && !isNameList(value))
      throw new InvalidGraphError(
        `Node "${name}": ends lists the nodes its Commands may go to, such as ["approve", "reject"]; got ${shownOption(value)}.`,
      );
    if (!NODE_OPTIONS.includes(key))
      throw new InvalidGraphError(
        `Node "${name}": unknown option "${key}". Node options are ${NODE_OPTIONS.slice(0, -1).join(", ")} and ${NODE_OPTIONS.at(-1)}.`,
      );
  }
}

/** A list (or, as LangGraph takes it, a Set) of node names. */
function isNameList(value: unknown): boolean {
  if (!Array.isArray(value) && !(value instanceof Set)) return false;
  return [...value].every((name) => typeof name === "string");
}

/** A builder option's value for an error: its JSON, cut short (builder options hold no users' data). */
function shownOption(value: unknown): string {
  if (value instanceof Set) return `a Set of ${shownOption([...value])}`;
  const json = typeof value === "function" ? undefined : JSON.stringify(value);
  if (json === undefined) return typeof value;
  return json.length > 60 ? `${json.slice(0, 57)}...` : json;
}
