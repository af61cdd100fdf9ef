import { EmptyCommandError } from "./errors.ts";
import type { TimeoutPolicy } from "./graph/spec.ts";
import { checkedTimeout } from "./node-timeout.ts";

/**
 * Route to `node` with its own input `arg`: a push task in the next superstep (map-reduce).
 * `timeout`, as LangGraph.js 1.7.3's: this task's own, in place of the node's (milliseconds, or
 * `{ runTimeout, idleTimeout, refreshOn }`); kept with the checkpoint, so a task planned on one
 * worker and run on another keeps it.
 */
export class Send<A = unknown> {
  readonly lg_name = "Send";
  readonly node: string;
  readonly args: A;
  readonly timeout?: TimeoutPolicy;
  constructor(node: string, args: A, options?: { timeout?: number | TimeoutPolicy | undefined }) {
    const timeout = checkedTimeout(options?.timeout, `new Send("${node}", args, { timeout })`);
    this.node = node;
    this.args = args;
    if (timeout !== undefined) this.timeout = timeout;
  }
}

export function isSend(value: unknown): value is Send {
  return (
    value instanceof Send ||
    (typeof value === "object" && value !== null && (value as Send).lg_name === "Send")
  );
}

export type Goto = string | Send | ReadonlyArray<string | Send>;

export interface CommandParams<R = unknown, U = Record<string, unknown>> {
  /** The value `interrupt()` returns, or a map of interrupt id → value. */
  resume?: R;
  /** A state update, applied as if the node returned it. */
  update?: U | ReadonlyArray<readonly [string, unknown]>;
  /** Next node(s) to run (or `Send`s). */
  goto?: Goto;
  /** `Command.PARENT` to route in the graph that contains this subgraph. */
  graph?: string;
}

/** Resume a paused graph (`invoke(new Command({ resume }))`) or route from a node (`return new Command({ goto, update })`). */
export class Command<R = unknown, U = Record<string, unknown>> {
  static readonly PARENT = "__parent__";
  readonly lg_name = "Command";
  /** LangChain's mark for a tool's output that is not to be wrapped in a ToolMessage: a tool may return a Command. */
  readonly lc_direct_tool_output = true;
  readonly resume: R | undefined;
  readonly update: U | ReadonlyArray<readonly [string, unknown]> | undefined;
  readonly goto: Goto;
  readonly graph: string | undefined;

  constructor(params: CommandParams<R, U>) {
    if (params.resume === undefined && params.update === undefined && params.goto === undefined) {
      throw new EmptyCommandError();
    }
    this.resume = params.resume;
    this.update = params.update;
    this.goto = params.goto ?? [];
    this.graph = params.graph;
  }
}

export function isCommand(value: unknown): value is Command {
  return (
    value instanceof Command ||
    (typeof value === "object" && value !== null && (value as Command).lg_name === "Command")
  );
}

/** `goto` as a list. */
export function gotoList(goto: Goto): ReadonlyArray<string | Send> {
  return typeof goto === "string" || isSend(goto) ? [goto] : (goto as ReadonlyArray<string | Send>);
}

/** A Command's update as `[key, value]` pairs. */
export function updateEntries(update: CommandParams["update"]): Array<readonly [string, unknown]> {
  if (update === undefined || update === null) return [];
  if (Array.isArray(update)) return update as Array<readonly [string, unknown]>;
  return Object.entries(update as Record<string, unknown>);
}

const BY_INTERRUPT_ID = Symbol.for("layover.resumeByInterruptId");

/**
 * Answers keyed by interrupt id, read strictly as such: an id that is not pending is refused
 * (UnknownInterruptError), never taken as one answer keyed by the caller's own UUIDs. For code
 * that always answers by id, as the runtime's workers do: `new Command({ resume: byInterruptId(answers) })`.
 */
export function byInterruptId(answers: Record<string, unknown>): Record<string, unknown> {
  return Object.defineProperty({ ...answers }, BY_INTERRUPT_ID, { value: true });
}

/** Whether `value` came from byInterruptId. */
export function isByInterruptId(value: unknown): boolean {
  return (
    typeof value === "object" &&
    value !== null &&
    (value as Record<symbol, unknown>)[BY_INTERRUPT_ID] === true
  );
}
