// LangGraph.js 1.7.3's node error handlers: `addNode(…, { errorHandler })` and
// `setNodeDefaults({ errorHandler })`. Each becomes a node of the compiled graph (named as
// LangGraph names it: `__error_handler__<node>`, `__default_error_handler__`) that no edge
// reaches: a failed task's handler runs in its place (planned-run.ts), so its update is named
// after it and its Command's goto routes from it.
import { CONFIG_KEY_NODE_ERROR } from "../constants.ts";
import { InvalidGraphError, type NodeError } from "../errors.ts";
import type { NodeConfig, NodeSpec } from "./spec.ts";

/**
 * Runs when its node fails with its retry policy exhausted: given the node's input and the
 * NodeError, it returns a state update or a `Command` (`goto` a recovery node), as a node does.
 */
export type ErrorHandler<S = any> = (state: S, error: NodeError, config: NodeConfig) => unknown;

/** The node of the graph-wide handler (setNodeDefaults). */
export const DEFAULT_ERROR_HANDLER = "__default_error_handler__";

/** The node of `node`'s own handler. */
export function errorHandlerNode(node: string): string {
  return `__error_handler__${node}`;
}

/** `value` as an error handler; undefined when not given; refused with what it takes when not a function. */
export function checkedErrorHandler(value: unknown, where: string): ErrorHandler | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== "function")
    throw new InvalidGraphError(
      `${where}: errorHandler must be a function (state, error: NodeError, config) returning a state update or a Command; got ${value === null ? "null" : typeof value}.`,
    );
  return value as ErrorHandler;
}

function handlerSpec(
  name: string,
  handler: ErrorHandler,
  inputKeys: readonly string[] | undefined,
): NodeSpec {
  const run = (state: unknown, config: NodeConfig) =>
    handler(state, config.configurable[CONFIG_KEY_NODE_ERROR] as NodeError, config);
  return { name, run, retryPolicy: undefined, isSubgraph: false, isErrorHandler: true, inputKeys };
}

/**
 * `nodes`, each with its error handler's node (its own, else `fallback`'s for every node without
 * one), and those nodes after them. A node already named as a handler's is refused.
 */
export function withErrorHandlers(
  nodes: ReadonlyMap<string, NodeSpec>,
  own: ReadonlyMap<string, ErrorHandler>,
  fallback: ErrorHandler | undefined,
): ReadonlyMap<string, NodeSpec> {
  if (own.size === 0 && fallback === undefined) return nodes;
  const resolved = new Map<string, NodeSpec>();
  const handlers = new Map<string, NodeSpec>();
  for (const [name, node] of nodes) {
    const handler = own.get(name);
    if (handler === undefined && fallback === undefined) {
      resolved.set(name, node);
      continue;
    }
    const handlerName = handler !== undefined ? errorHandlerNode(name) : DEFAULT_ERROR_HANDLER;
    resolved.set(name, { ...node, errorHandler: handlerName });
    if (handler !== undefined) handlers.set(handlerName, handlerSpec(handlerName, handler, node.inputKeys));
    else if (!handlers.has(handlerName))
      handlers.set(handlerName, handlerSpec(handlerName, fallback as ErrorHandler, undefined));
  }
  for (const name of handlers.keys()) {
    if (nodes.has(name))
      throw new InvalidGraphError(
        `Node "${name}" has the name of an error handler's node (errorHandler registers "__error_handler__<node>", setNodeDefaults({ errorHandler }) "${DEFAULT_ERROR_HANDLER}"): rename it.`,
      );
  }
  return new Map([...resolved, ...handlers]);
}
