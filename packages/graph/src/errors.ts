import { isLayoverError, LayoverError } from "@layover/checkpoint";
import { namespacePlace } from "./constants.ts";

export type GraphErrorCode =
  | "INVALID_GRAPH"
  | "INVALID_UPDATE"
  | "INVALID_INPUT"
  | "RECURSION_LIMIT"
  | "MISSING_CHECKPOINTER"
  | "MISSING_THREAD_ID"
  | "NOT_INTERRUPTED"
  | "UNKNOWN_INTERRUPT"
  | "MISSING_NODE"
  | "AMBIGUOUS_RESUME"
  | "INVALID_RESUME"
  | "EMPTY_COMMAND"
  | "CHECKPOINT_NOT_FOUND"
  | "ABORTED"
  | "OUTSIDE_NODE"
  | "NODE_TIMEOUT";

class GraphError<C extends GraphErrorCode> extends LayoverError<C> {}

/** The graph's shape is wrong: unknown node in an edge, no entry point, a reserved name… */
export class InvalidGraphError<
  C extends "INVALID_GRAPH" | "MISSING_CHECKPOINTER" = "INVALID_GRAPH",
> extends GraphError<C> {
  /** `code` for a subclass's own (LangGraph's GraphValueError has several: a missing checkpointer's too). */
  constructor(message: string, code = "INVALID_GRAPH" as C) {
    super(code, message);
  }
}

/**
 * A node no edge, router or `ends` leads to, as LangGraph.js's UnreachableNodeError: it could
 * never run. A node reached only by a `Command`'s goto names it in `addNode(…, { ends })`.
 */
export class UnreachableNodeError extends InvalidGraphError {
  /** LangGraph.js's code for this error, for code ported from it that checks it. */
  readonly lc_error_code = "UNREACHABLE_NODE";
  readonly node: string;
  constructor(graph: string, node: string) {
    const of = graph === "LangGraph" ? "" : ` of graph "${graph}"`;
    super(
      `Node "${node}"${of} is not reachable: no edge, conditional edge's path map or node's ends names it. ` +
        "Add an edge to it, add it to the path map of the router that returns it (a Send's target too), " +
        `or, where a node's Command goes to it, name it in that node's ends: addNode("source", fn, { ends: ["${node}"] }).`,
    );
    this.node = node;
  }
}

/** A node's update cannot be applied (two writes to a last-value key, an unknown key, a bad goto). */
export class InvalidUpdateError extends GraphError<"INVALID_UPDATE"> {
  /** `redactedMessage`: the message without the user's data it quotes, for logs (see LayoverError). */
  constructor(message: string, redactedMessage?: string) {
    super("INVALID_UPDATE", message, { redactedMessage });
  }
}

/** Input (or `updateState` values) that do not satisfy the graph's state schema. Nothing was written. */
export class InvalidInputError extends GraphError<"INVALID_INPUT"> {
  readonly issues: readonly string[];
  /** `redactedMessage`: the message without the user's data it quotes, for logs (see LayoverError). */
  constructor(message: string, issues: readonly string[] = [], redactedMessage?: string) {
    super("INVALID_INPUT", message, { redactedMessage });
    this.issues = issues;
  }
}

/**
 * A run asked to continue a thread (input `null` or `undefined`) that has no checkpoint, as
 * LangGraph.js's EmptyInputError: start it with an input instead. Nothing was written.
 */
export class EmptyInputError extends InvalidInputError {}

export class GraphRecursionError extends GraphError<"RECURSION_LIMIT"> {
  /** LangGraph.js's code for this error, for code ported from it that checks it. */
  readonly lc_error_code = "GRAPH_RECURSION_LIMIT";
  constructor(limit: number) {
    super(
      "RECURSION_LIMIT",
      `Recursion limit of ${limit} supersteps reached without hitting END. ` +
        "If the graph is meant to run this long, raise `recursionLimit` in the config; " +
        "otherwise look for a cycle whose exit condition is never met.",
    );
  }
}

export class MissingCheckpointerError extends InvalidGraphError<"MISSING_CHECKPOINTER"> {
  /** LangGraph.js's code for this error, for code ported from it that checks it. */
  readonly lc_error_code = "MISSING_CHECKPOINTER";
  /** `what` needs a checkpointer (`interrupt()`, `getState()`) `to` do what (`to save the paused state`). */
  constructor(what: string, to = "to save the paused state") {
    super(
      `${what} needs a checkpointer ${to}. ` +
        "Give the graph one: builder.compile({ checkpointer: new MemorySaver() }), or for a workflow " +
        "entrypoint({ name, checkpointer: new MemorySaver() }), in development; the Postgres saver in production.",
      "MISSING_CHECKPOINTER",
    );
  }
}

export class MissingThreadIdError extends GraphError<"MISSING_THREAD_ID"> {
  constructor() {
    super(
      "MISSING_THREAD_ID",
      "This graph has a checkpointer, so every call needs a thread: " +
        'pass { configurable: { thread_id: "…" } } as the config (the same id to resume later).',
    );
  }
}

export class NotInterruptedError extends GraphError<"NOT_INTERRUPTED"> {
  /** `hint`: what to do instead (the runtime's client names its own calls). */
  constructor(
    threadId: string,
    hint = "Start it with an input, or continue past a static breakpoint with invoke(null, config).",
  ) {
    super("NOT_INTERRUPTED", `Thread "${threadId}" has no pending interrupt to resume. ${hint}`);
  }
}

export class UnknownInterruptError extends GraphError<"UNKNOWN_INTERRUPT"> {
  readonly pendingIds: readonly string[];
  constructor(unknownIds: readonly string[], pendingIds: readonly string[]) {
    super(
      "UNKNOWN_INTERRUPT",
      `No pending interrupt with id ${unknownIds.map((id) => `"${id}"`).join(", ")}. ` +
        `Pending interrupt ids: ${pendingIds.length ? pendingIds.join(", ") : "none"}.`,
    );
    this.pendingIds = pendingIds;
  }
}

/** Whether `error` is an UnknownInterruptError (by name across copies of this package, as LangGraph's). */
export function isUnknownInterruptError(error: unknown): error is UnknownInterruptError {
  return (
    error instanceof UnknownInterruptError ||
    (error as { name?: unknown } | null)?.name === "UnknownInterruptError"
  );
}

/**
 * The thread waits to run nodes this graph does not have: a version of the graph that had them
 * paused it (a deploy renamed or removed the node a thread waits in). Nothing was changed.
 */
export class MissingNodeError extends GraphError<"MISSING_NODE"> {
  /** The nodes the thread waits to run that the graph cannot plan. */
  readonly nodes: readonly string[];
  /** Where the graph that lacks them runs: "" for the thread's graph, a subgraph's checkpoint namespace. */
  readonly ns: string;
  constructor(threadId: string, nodes: readonly string[], graphNodes: readonly string[], ns = "") {
    const quoted = (list: readonly string[]) => list.map((node) => `"${node}"`).join(", ");
    const gone = nodes.filter((node) => !graphNodes.includes(node));
    const joined = nodes.filter((node) => graphNodes.includes(node));
    const what = [
      gone.length > 0
        ? `${gone.length > 1 ? "nodes" : "node"} ${quoted(gone)}, which this version of the graph does not have`
        : "",
      joined.length > 0
        ? `${quoted(joined)} through a join of edges this version of the graph does not have`
        : "",
    ].filter((part) => part !== "");
    const where = ns === "" ? "" : ` in its subgraph at "${namespacePlace(ns)}"`;
    super(
      "MISSING_NODE",
      `Thread "${threadId}" waits to run ${what.join(", and ")}${where} (its nodes: ${graphNodes.join(", ") || "none"}): ` +
        `a version of the graph that had ${nodes.length > 1 ? "them" : "it"} paused the thread. Nothing was run. ` +
        `To go on from where the thread waits, serve a version of the graph with ${quoted(nodes)} (keep a ` +
        "renamed node under its old name until no thread waits in it); or start the thread again with a new " +
        "input. Answers already given stay on its interrupts.",
    );
    this.nodes = nodes;
    this.ns = ns;
  }
}

export class AmbiguousResumeError extends GraphError<"AMBIGUOUS_RESUME"> {
  readonly pendingIds: readonly string[];
  /** `how`: the call that answers each by its id, as the caller's API spells it. */
  constructor(pendingIds: readonly string[], how = "new Command({ resume: { [id]: value } })") {
    super(
      "AMBIGUOUS_RESUME",
      `${pendingIds.length} interrupts are pending, so a single resume value is ambiguous. ` +
        `Resume with a map of interrupt id to value: ${how}. Pending ids: ${pendingIds.join(", ")}.`,
    );
    this.pendingIds = pendingIds;
  }
}

export class InvalidResumeError extends GraphError<"INVALID_RESUME"> {
  readonly interruptId: string;
  readonly issues: readonly string[];
  /**
   * `inNode`: found by interrupt() itself, once the answer was recorded (a check JSON Schema
   * cannot carry, such as a refine, runs only there): the run fails instead.
   */
  constructor(
    interruptId: string,
    issues: readonly string[],
    inNode = false,
    redactedIssues?: readonly string[],
  ) {
    const message = (listed: readonly string[]) =>
      `Resume value for interrupt "${interruptId}" does not match the schema given to interrupt(): ${listed.join("; ")}. ` +
      (inNode
        ? "The answer was recorded and the node refused it, so the run failed: this check (a refine or " +
          "transform JSON Schema cannot express) runs only in the node. Start a new run, or check answers " +
          "before resuming."
        : "Nothing was changed; resume again with a valid value.");
    super("INVALID_RESUME", message(issues), {
      redactedMessage: redactedIssues === undefined ? undefined : message(redactedIssues),
    });
    this.interruptId = interruptId;
    this.issues = issues;
  }
}

export class EmptyCommandError extends GraphError<"EMPTY_COMMAND"> {
  constructor() {
    super("EMPTY_COMMAND", "The Command has nothing in it: give it at least one of resume, update or goto.");
  }
}

export class CheckpointNotFoundError extends GraphError<"CHECKPOINT_NOT_FOUND"> {
  /** `how`: where the caller finds the thread's checkpoints (the engine's getStateHistory by default). */
  constructor(threadId: string, checkpointId: string, how = "List them with getStateHistory(config).") {
    super("CHECKPOINT_NOT_FOUND", `Thread "${threadId}" has no checkpoint "${checkpointId}". ${how}`);
  }
}

/**
 * The run's AbortSignal fired. Named "AbortError", as the platform's and LangGraph.js's abort
 * errors are, so `error.name === "AbortError"` checks keep working (code ABORTED; the signal's
 * reason is its cause).
 */
export class GraphAbortedError extends GraphError<"ABORTED"> {
  constructor(reason: unknown) {
    super("ABORTED", "The run was aborted through its AbortSignal.", { cause: reason });
    this.name = "AbortError";
  }
}

export class OutsideNodeError extends GraphError<"OUTSIDE_NODE"> {
  constructor(what: string) {
    super("OUTSIDE_NODE", `${what} can only be called while a graph node runs (inside a node function).`);
  }
}

/**
 * An attempt of a node ran past its timeout (`addNode(…, { timeout })`), as LangGraph's: `kind`
 * "run" (runTimeout: `timeout` ms in all) or "idle" (idleTimeout: `timeout` ms without progress).
 * A RetryPolicy retries it, as LangGraph's default retryOn does.
 */
export class NodeTimeoutError extends GraphError<"NODE_TIMEOUT"> {
  readonly node: string;
  readonly kind: "run" | "idle";
  readonly timeout: number;
  readonly elapsed: number;
  readonly runTimeout: number | undefined;
  readonly idleTimeout: number | undefined;
  constructor(fields: {
    node: string;
    kind: "run" | "idle";
    elapsed: number;
    runTimeout?: number;
    idleTimeout?: number;
  }) {
    const timeout = (fields.kind === "run" ? fields.runTimeout : fields.idleTimeout) as number;
    const what = fields.kind === "run" ? "ran for" : "showed no progress for";
    super(
      "NODE_TIMEOUT",
      `Node "${fields.node}" timed out: an attempt ${what} ${timeout} ms (its ${fields.kind}Timeout). Its signal was aborted and what it does after is dropped; a retryPolicy may retry it.`,
    );
    this.name = "NodeTimeoutError";
    this.node = fields.node;
    this.kind = fields.kind;
    this.timeout = timeout;
    this.elapsed = Math.round(fields.elapsed);
    this.runTimeout = fields.runTimeout;
    this.idleTimeout = fields.idleTimeout;
  }
}

/** Whether `error` is a NodeTimeoutError (by name across copies of this package, as LangGraph's). */
export function isNodeTimeoutError(error: unknown): error is NodeTimeoutError {
  return (
    error instanceof NodeTimeoutError || (error as { name?: unknown } | null)?.name === "NodeTimeoutError"
  );
}

/**
 * What a node's error handler (`addNode(…, { errorHandler })`, `setNodeDefaults({ errorHandler })`)
 * is given, as LangGraph.js's: the node that failed (its retry policy exhausted) and its error.
 * After a pause in the handler, or on another worker, `error` is rebuilt from what was stored:
 * an Error with the original's name, message and code.
 */
export class NodeError {
  /** The node whose task failed. */
  readonly node: string;
  /** What it threw. */
  readonly error: Error;
  constructor(node: string, error: Error) {
    this.node = node;
    this.error = error;
  }
  static get unminifiable_name(): string {
    return "NodeError";
  }
}

/** Whether `value` is a NodeError (by name across copies of this package, as LangGraph's). */
export function isNodeError(value: unknown): value is NodeError {
  if (value instanceof NodeError) return true;
  const ctor = (value as { constructor?: { unminifiable_name?: unknown } } | null)?.constructor;
  return ctor?.unminifiable_name === "NodeError";
}

/**
 * Whether `error` is an InvalidResumeError — an answer that does not fit its interrupt's schema —
 * itself or as the `cause` of an error wrapping it, as LangGraph.js 1.7.3's `isInvalidResume`.
 */
export function isInvalidResume(error: unknown): boolean {
  let current = error;
  for (let depth = 0; depth < 10; depth += 1) {
    if (typeof current !== "object" || current === null) return false;
    if (isLayoverError(current, "INVALID_RESUME")) return true;
    current = (current as { cause?: unknown }).cause;
  }
  return false;
}
