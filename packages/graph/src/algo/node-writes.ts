import type { PendingSend, TimeoutPolicy } from "@layover/checkpoint";
import { GraphBubbleUp } from "../bubble-up.ts";
import { Command, gotoList, isCommand, isSend, type Send, updateEntries } from "../command.ts";
import { END, TASKS, triggerChannel } from "../constants.ts";
import { InvalidUpdateError } from "../errors.ts";
import type { GraphSpec, NodeConfig } from "../graph/spec.ts";
import { checkedTimeout } from "../node-timeout.ts";
import { overwriteOf } from "../overwrite.ts";
import { applyWrites, readState, type Write } from "./apply-writes.ts";

/** Thrown when a subgraph node returns `Command({ graph: Command.PARENT })`: the parent routes it. */
export class ParentCommand extends GraphBubbleUp {
  readonly command: Command;
  constructor(command: Command) {
    super("Command for the parent graph");
    this.name = "ParentCommand";
    this.command = command;
  }
}

export function isParentCommand(error: unknown): error is ParentCommand {
  return (error as { name?: unknown } | null)?.name === "ParentCommand";
}

/**
 * What a value is, never what it holds: these messages reach logs, where users' state is
 * redacted unless LAYOVER_LOG_PAYLOADS is set.
 */
function describe(value: unknown): string {
  if (Array.isArray(value)) return "an array";
  if (value === null) return "null";
  return typeof value === "object" ? "an object" : `a ${typeof value}`;
}

/** Edit distance of two short names, for "did you mean" (never echoing the name given). */
function distance(a: string, b: string): number {
  let row = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const next = [i];
    for (let j = 1; j <= b.length; j++)
      next[j] = Math.min(
        (row[j] as number) + 1,
        (next[j - 1] as number) + 1,
        (row[j - 1] as number) + (a[i - 1] === b[j - 1] ? 0 : 1),
      );
    row = next;
  }
  return row[b.length] as number;
}

/** " Did you mean "x"?" for a name one or two edits from one of `names`, else "". */
function didYouMean(given: string, names: Iterable<string>): string {
  if (given.length > 64) return "";
  for (const name of names) if (distance(given, name) <= 2) return ` Did you mean "${name}"?`;
  return "";
}

export function stateWrite(
  spec: GraphSpec,
  node: string,
  key: string,
  value: unknown,
  filter: boolean,
): Write | undefined {
  if (spec.channels.get(key)?.kind === "last" || spec.channels.get(key)?.kind === "reduce") {
    // A zod field checks (and transforms) what nodes write, as it checks inputs.
    // (An Overwrite carries a whole value, not an update: the reducer key's update schema does not apply.)
    const check = value === undefined ? undefined : spec.state.fields.get(key)?.check;
    const checked = check === undefined || overwriteOf(value)[0] ? undefined : check(value);
    if (checked === undefined) return [key, value];
    if (checked.ok) return [key, checked.value];
    const message = (issues: string[]) =>
      `Node "${node}" wrote "${key}", which does not fit its schema: ${issues.join("; ")}. ` +
      "Return a value of the state key's type.";
    throw new InvalidUpdateError(message(checked.issues), message(checked.redacted));
  }
  if (filter) return undefined;
  // The key may be the user's data (results keyed by an email): logs get the message without it.
  const message = (returned: string) =>
    `Node "${node}" returned ${returned}, which is not in the state of graph "${spec.name}". ` +
    `State keys: ${spec.stateKeys.join(", ")}.`;
  throw new InvalidUpdateError(message(`key "${key}"`), message("a key"));
}

/** The writes a `goto` makes: a trigger per node, a push task per `Send`. */
export function gotoWrites(spec: GraphSpec, source: string, goto: ReadonlyArray<string | Send>): Write[] {
  const writes: Write[] = [];
  for (const target of goto) {
    if (isSend(target)) {
      assertNode(spec, source, target.node);
      writes.push([TASKS, sendOf(target)]);
    } else if (target !== END) {
      assertNode(spec, source, target);
      writes.push([triggerChannel(target), true]);
    }
  }
  return writes;
}

function assertNode(spec: GraphSpec, source: string, target: string): void {
  if (!spec.nodes.has(target)) {
    // The name given is not echoed: a router may return what the state holds.
    throw new InvalidUpdateError(
      `"${source}" routed to a name that is not a node of graph "${spec.name}".${didYouMean(target, spec.nodes.keys())} Nodes: ${[...spec.nodes.keys()].join(", ")}.`,
    );
  }
}

/**
 * Turns what a node returned into channel writes: a partial state update, a `Command`
 * (update + goto), or nothing. `filter` drops unknown keys (a subgraph's whole state).
 */
export function outputWrites(spec: GraphSpec, node: string, output: unknown, filter = false): Write[] {
  if (output === undefined || output === null) return [];
  if (isCommand(output)) {
    if (output.graph === Command.PARENT) throw new ParentCommand(output);
    const writes: Write[] = [];
    for (const [key, value] of updateEntries(output.update)) {
      const write = stateWrite(spec, node, key, value, filter);
      if (write) writes.push(write);
    }
    writes.push(...gotoWrites(spec, node, gotoList(output.goto)));
    return writes;
  }
  // As in LangGraph: several Commands (with updates among them), applied in order.
  if (
    Array.isArray(output) &&
    output.some(isCommand) &&
    output.every((item) => isCommand(item) || isPlainUpdate(item))
  )
    return output.flatMap((item) => outputWrites(spec, node, item, filter));
  if (Array.isArray(output) && output.some(isSend)) {
    throw new InvalidUpdateError(
      `Node "${node}" returned a Send; return new Command({ goto: [new Send(…)] }), or send from a conditional edge's router.`,
    );
  }
  if (typeof output !== "object" || Array.isArray(output)) {
    throw new InvalidUpdateError(
      `Node "${node}" returned ${describe(output)}; a node returns a partial state update (an object), a Command, a list of Commands, or nothing.`,
    );
  }
  const writes: Write[] = [];
  for (const [key, value] of Object.entries(output)) {
    const write = stateWrite(spec, node, key, value, filter);
    if (write) writes.push(write);
  }
  return writes;
}

function isPlainUpdate(value: unknown): boolean {
  return typeof value === "object" && value !== null && !Array.isArray(value) && !isSend(value);
}

function routeTargets(result: unknown): unknown[] {
  return Array.isArray(result) ? result : [result];
}

/**
 * The writes of a node's outgoing edges: its static edges and joins, then each conditional
 * edge's router, called with the state as this node sees it after its own writes.
 */
export async function edgeWrites(
  spec: GraphSpec,
  node: string,
  values: Record<string, unknown>,
  versions: Record<string, number>,
  ownWrites: readonly Write[],
  config: NodeConfig,
): Promise<Write[]> {
  const writes: Write[] = [...(spec.edgeWrites.get(node) ?? [])];
  const branches = spec.branches.get(node);
  if (branches === undefined) return writes;
  const local = applyWrites(spec, { values, versions }, [
    ownWrites.filter(([c]) => spec.stateKeys.includes(c)),
  ]);
  const state = readState(spec, local.values);
  for (const branch of branches) {
    const result = await branch.router(state, config);
    const goto: Array<string | Send> = [];
    for (const target of routeTargets(result)) {
      if (isSend(target)) goto.push(target);
      else if (typeof target === "string")
        goto.push(branch.pathMap ? mapPath(spec, node, branch.pathMap, target) : target);
      // A path map's keys are strings: a router may return true/false or a number to look up.
      else if (branch.pathMap && (typeof target === "boolean" || typeof target === "number"))
        goto.push(mapPath(spec, node, branch.pathMap, String(target)));
      else
        throw new InvalidUpdateError(
          `The router of "${node}" returned ${describe(target)}; return a node name, END or a Send.`,
        );
    }
    writes.push(...gotoWrites(spec, node, goto));
  }
  return writes;
}

function mapPath(
  spec: GraphSpec,
  node: string,
  pathMap: Readonly<Record<string, string>>,
  key: string,
): string {
  const target = pathMap[key];
  if (target !== undefined) return target;
  throw new InvalidUpdateError(
    `The router of "${node}" in graph "${spec.name}" returned a key its path map does not list.${didYouMean(key, Object.keys(pathMap))} ` +
      `Listed: ${Object.keys(pathMap).join(", ")}.`,
  );
}

/**
 * A Send as a checkpoint keeps it: its node, its argument, and its own timeout if it has one
 * (checked again: a Send of another package's making passes isSend too).
 */
export function sendOf(send: Send): PendingSend {
  return pendingSend(send.node, send.args, checkedTimeout(send.timeout, `The Send to "${send.node}"`));
}

/** A pending send; its timeout only when it has one. */
export function pendingSend(node: string, arg: unknown, timeout: TimeoutPolicy | undefined): PendingSend {
  return timeout === undefined ? { node, arg } : { node, arg, timeout };
}
