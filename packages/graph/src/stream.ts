import { InvalidInputError } from "./errors.ts";

/**
 * LangGraph's stream modes. "tasks" and "checkpoints" carry the payloads of "debug"'s task
 * (and task_result) and checkpoint events on their own.
 */
export type StreamMode = "values" | "updates" | "custom" | "messages" | "debug" | "tasks" | "checkpoints";

const MODES: ReadonlySet<unknown> = new Set<StreamMode>([
  "values",
  "updates",
  "custom",
  "messages",
  "debug",
  "tasks",
  "checkpoints",
]);

/** Refuses a mode this engine does not stream, rather than streaming nothing for it. */
export function checkStreamModes(modes: readonly unknown[]): void {
  for (const mode of modes) {
    if (MODES.has(mode)) continue;
    throw new InvalidInputError(
      `Unknown stream mode ${JSON.stringify(mode)}: use ${[...MODES].map((m) => `"${m}"`).join(", ")}.`,
    );
  }
}

/** Where a run reports what happens, for `stream()`. Absent for `invoke()`: nothing is built. */
export interface Emitter {
  modes: ReadonlySet<StreamMode>;
  /** A chunk of the graph streaming, or of the subgraph at namespace `ns` (`["node:taskId", …]`). */
  push(mode: StreamMode, chunk: unknown, ns?: readonly string[]): void;
  /** `stream(…, { subgraphs: true })`: subgraphs stream too, each chunk with its namespace. */
  subgraphs?: boolean;
  /** LangChain callback handlers the run's nodes get (`config.callbacks`): streamEvents' model and tool events. */
  callbacks?: readonly object[];
  /**
   * Told, before its start event, of a task that does not run: the node cache answered it, or a
   * `task()` call gives back the result it kept (streamEvents gives it no chain events).
   */
  hit?: (taskId: string) => void;
  /**
   * Its chunks leave the process (a worker's runs.stream): "values" and "updates" leave out the
   * graph's UntrackedValue keys, as checkpoints do. In-process streams show them, as LangGraph's.
   */
  leavesProcess?: boolean;
  /**
   * The ids of the messages the run's "messages" stream carried, its subgraphs' among them: a
   * message a node returns goes out only if its tokens did not (a subgraph's model's, streamed
   * under its namespace, are not sent again for the subgraph's node).
   */
  messagesSeen?: Set<string>;
}

/** The set of message ids `emit`'s run has streamed, made on first use and shared with its subgraphs' emitters. */
export function messagesSeen(emit: Emitter): Set<string> {
  emit.messagesSeen ??= new Set();
  return emit.messagesSeen;
}

export function debugEvent(type: string, step: number, payload: unknown) {
  return { type, step, timestamp: new Date().toISOString(), payload };
}

type EventType = "task" | "task_result" | "checkpoint";

function ownMode(type: EventType): StreamMode {
  return type === "checkpoint" ? "checkpoints" : "tasks";
}

/** Whether anyone streams `type` events: "debug", or their own mode. Build a payload only then. */
export function wantsEvent(emit: Emitter | undefined, type: EventType): emit is Emitter {
  return emit !== undefined && (emit.modes.has("debug") || emit.modes.has(ownMode(type)));
}

/**
 * A task, task result or checkpoint event, in "debug" (wrapped) and in its own mode (bare;
 * `own` when that mode's payload differs, as a task result's does in LangGraph).
 */
export function pushEvent(
  emit: Emitter,
  type: EventType,
  step: number,
  payload: unknown,
  own = payload,
): void {
  if (emit.modes.has("debug")) emit.push("debug", debugEvent(type, step, payload));
  const mode = ownMode(type);
  if (emit.modes.has(mode)) emit.push(mode, own);
}

const CUSTOM: ReadonlySet<StreamMode> = new Set(["custom"]);

/**
 * A stream namespace from a subgraph's checkpoint namespace, as LangGraph's: one
 * `"node:taskId"` element per level, and a task's second and later subgraph calls a counter
 * element of their own (`["node:taskId", "1"]`), which Layover's namespace keeps in the segment.
 */
function streamNamespace(ns: string): string[] {
  return ns.split("|").flatMap((segment) => {
    const [node, task, call] = segment.split(":");
    return call === undefined ? [segment] : [`${node}:${task}`, call];
  });
}

/**
 * What a subgraph called by a streaming run streams to: with `subgraphs: true`, all of its
 * chunks, under its namespace; otherwise its nodes' "custom" chunks only, as the run's own (as
 * LangGraph's). Undefined when the run streams neither.
 */
export function nestedEmitter(parent: Emitter, ns: string): Emitter | undefined {
  if (parent.subgraphs === true) {
    const namespace = streamNamespace(ns);
    return {
      modes: parent.modes,
      subgraphs: true,
      push: (mode, chunk, inner) => parent.push(mode, chunk, inner ?? namespace),
      ...(parent.leavesProcess === true ? { leavesProcess: true } : {}),
      messagesSeen: messagesSeen(parent),
    };
  }
  if (!parent.modes.has("custom")) return undefined;
  return { modes: CUSTOM, push: (mode, chunk) => parent.push(mode, chunk) };
}

/**
 * What a graph whose own `stream()` is called inside a running task streams to: its caller
 * (`own`: its own modes, its own chunks — a subgraph's under it only when the caller asked for
 * subgraphs) and the task's run (`run`, from nestedEmitter: the run's modes), as LangGraph's
 * stream reaches both.
 */
export function teeEmitter(own: Emitter, run: Emitter | undefined): Emitter {
  if (run === undefined) return own;
  return {
    modes: new Set([...own.modes, ...run.modes]),
    push(mode, chunk, ns) {
      if (own.modes.has(mode) && (ns === undefined || own.subgraphs === true)) own.push(mode, chunk, ns);
      if (run.modes.has(mode)) run.push(mode, chunk, ns);
    },
    ...(own.subgraphs === true || run.subgraphs === true ? { subgraphs: true } : {}),
    ...(own.callbacks === undefined ? {} : { callbacks: own.callbacks }),
    // The run's chunks leave the process (a worker's): the caller's own see the same chunks.
    ...(run.leavesProcess === true ? { leavesProcess: true } : {}),
    messagesSeen: messagesSeen(run),
  };
}

/** Every chunk of `stream`, in a list (invoke with a stream mode other than "values"). */
export async function chunksOf(stream: AsyncIterable<unknown>): Promise<unknown[]> {
  const chunks: unknown[] = [];
  for await (const chunk of stream) chunks.push(chunk);
  return chunks;
}
