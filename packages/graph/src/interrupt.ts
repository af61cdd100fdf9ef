import { isDeepStrictEqual } from "node:util";
import { assertJsonSerialisable, unknownKeysProblem } from "@layover/checkpoint";
import { z } from "zod";
import { GraphBubbleUp } from "./bubble-up.ts";
import { NULL_RESUME } from "./constants.ts";
import { currentTask, type TaskContext } from "./context.ts";
import {
  InvalidInputError,
  InvalidResumeError,
  MissingCheckpointerError,
  OutsideNodeError,
} from "./errors.ts";
import { deterministicId } from "./ids.ts";
import type { Interrupt } from "./outcome.ts";
import { type IssueTexts, issueTexts } from "./state/issues.ts";
import { compiledJsonSchema } from "./state/json-schema.ts";

export type { Interrupt } from "./outcome.ts";

import type { InterruptOptions } from "./interrupt-options.ts";

export type { InterruptOptions };

/** Thrown by `interrupt()` to stop the node; the engine catches it. Never catch it in node code. */
export class GraphInterrupt extends GraphBubbleUp {
  readonly interrupts: Interrupt[];
  constructor(interrupts: Interrupt[]) {
    super(`Graph interrupted (${interrupts.map((i) => i.id).join(", ")})`);
    this.name = "GraphInterrupt";
    this.interrupts = interrupts;
  }
}

/**
 * Thrown by a node to pause it with `value` (JSON): LangGraph's dynamic breakpoint, deprecated
 * there for `interrupt()` and kept for the graphs that use it. The thread waits as for an
 * `interrupt()`; resumed, the node runs again from its beginning, so it pauses again unless what
 * it checks has changed: resume with an update (`new Command({ resume, update })`, or the
 * client's `threads.resume(threadId, value, { update })`), or `updateState` then `invoke(null)`.
 * Its id is given when its node throws it (askedIds), so one may be made anywhere.
 * @deprecated Call `interrupt(value)` in the node: it returns the answer to the node instead.
 */
export class NodeInterrupt extends GraphInterrupt {
  constructor(value: unknown) {
    assertJsonSerialisable(value, "NodeInterrupt's value");
    super([{ id: "", value }]);
    this.name = "NodeInterrupt";
    this.message = "A node paused with NodeInterrupt (its value is the interrupt's).";
  }
}

/**
 * Gives an id to each interrupt that `error`, thrown by the node of `task`, carries without one
 * (a NodeInterrupt, LangGraph's own): as interrupt() makes them, counted among the node's. One
 * asked again after its answer (the node ran again and threw it again) is a new question with an
 * id of its own, the same on every attempt of the superstep (the answers are the checkpoint's).
 */
export function askedIds(error: GraphInterrupt, task: TaskContext): void {
  const records = error.interrupts as unknown[];
  records.forEach((record, i) => {
    const asked = (typeof record === "object" && record !== null ? record : { value: record }) as Interrupt;
    if (typeof asked.id === "string" && asked.id !== "") return;
    assertJsonSerialisable(asked.value, "A NodeInterrupt's value");
    let id = deterministicId(task.ns, task.taskId, task.interruptIndex);
    task.interruptIndex += 1;
    while (task.resumeValues.has(id)) id = deterministicId(id, "asked again");
    records[i] = { ...asked, id };
  });
}

/**
 * Whether `error` pauses the graph: a GraphInterrupt or NodeInterrupt, by name (with its
 * interrupts) across copies of this package and LangGraph's own.
 */
export function isGraphInterrupt(error: unknown): error is GraphInterrupt {
  if (error instanceof GraphInterrupt) return true;
  const { name, interrupts } = (error ?? {}) as { name?: unknown; interrupts?: unknown };
  return (name === "GraphInterrupt" || name === "NodeInterrupt") && Array.isArray(interrupts);
}

const UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** The longest timeout taken: a century (Postgres cannot add much more than 290,000 years to now). */
export const MAX_DURATION_MS = 100 * 365 * 24 * 3_600_000;

/** Milliseconds from `1500`, "30s", "15m", "2h" or "1d", at most a century. */
export function parseDuration(input: number | string): number {
  const match = typeof input === "string" ? /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)\s*$/.exec(input) : null;
  const ms =
    typeof input === "number" && Number.isFinite(input) && input >= 0
      ? input
      : match === null
        ? undefined
        : Number(match[1]) * (UNITS[match[2] as string] as number);
  if (ms === undefined)
    throw new InvalidInputError(
      `Invalid timeout ${JSON.stringify(input)}: use milliseconds (a non-negative number) or a string like "30s", "15m", "2h", "1d".`,
    );
  if (ms > MAX_DURATION_MS)
    throw new InvalidInputError(
      `Invalid timeout ${JSON.stringify(input)}: at most a century (${MAX_DURATION_MS} ms); leave the timeout out for a question without a deadline.`,
    );
  return ms;
}

/**
 * Refuses an onTimeout the interrupt's own schema refuses: at the deadline its node would fail on
 * it, with the question expired and nobody able to answer it.
 */
function checkOnTimeout(options: InterruptOptions<unknown>): void {
  const parsed = options.schema?.safeParse(options.onTimeout);
  if (parsed === undefined || parsed.success) return;
  const { texts, redacted } = issueTexts(options.schema as z.ZodType, parsed.error.issues);
  const message = (issues: string[]) =>
    `interrupt()'s onTimeout does not fit its schema (${issues.join("; ")}): at the deadline its node would fail on it and nobody could answer. Give an onTimeout the schema takes.`;
  throw new InvalidInputError(message(texts), texts, message(redacted));
}

const INTERRUPT_OPTIONS = [
  "timeout",
  "onTimeout",
  "schema",
] as const satisfies readonly (keyof InterruptOptions)[];

function interruptRecord(
  id: string,
  value: unknown,
  options: InterruptOptions<unknown> | undefined,
): Interrupt {
  assertJsonSerialisable(value, "The value given to interrupt()");
  const record: Interrupt = { id, value };
  if (options === undefined) return record;
  // A misspelt `timout` asked a question that waited for ever.
  const unknown = unknownKeysProblem("interrupt()'s options", options, INTERRUPT_OPTIONS);
  if (unknown !== undefined) throw new InvalidInputError(unknown);
  if (options.timeout !== undefined) record.timeoutMs = parseDuration(options.timeout);
  if (options.onTimeout !== undefined) {
    assertJsonSerialisable(options.onTimeout, "interrupt()'s onTimeout value");
    checkOnTimeout(options);
    record.onTimeout = options.onTimeout;
  }
  if (options.schema !== undefined) {
    record.resumeSchema = z.toJSONSchema(options.schema, { unrepresentable: "any", io: "input" }) as Record<
      string,
      unknown
    >;
  }
  return record;
}

/**
 * Pause the graph until someone resumes it with `new Command({ resume })`.
 * On resume the node runs again from its beginning, and its k-th `interrupt()` call returns
 * the k-th resume value. The value must be JSON-serialisable; it is what the caller sees.
 */
export function interrupt<I = unknown, R = any>(value: I, options?: InterruptOptions<R>): R {
  const task = currentTask();
  if (task === undefined) throw new OutsideNodeError("interrupt()");
  if (task.checkpointer === undefined) throw new MissingCheckpointerError("interrupt()");
  const index = task.interruptIndex;
  task.interruptIndex += 1;
  const id = deterministicId(task.ns, task.taskId, index);
  if (task.resumeValues.has(id))
    return checkedResume(id, task.resumeValues.get(id), askedWithSchema(task.asked?.get(id), options));
  // A value given while nothing was pending goes to the first call without its own (and to
  // that call again when its node is retried).
  const unasked = task.resumeValues.get(NULL_RESUME) as UnaskedResume | undefined;
  if (unasked !== undefined && (unasked.takenBy === undefined || unasked.takenBy === id)) {
    unasked.takenBy = id;
    return checkedResume(id, unasked.value, options);
  }
  throw new GraphInterrupt([interruptRecord(id, value, options as InterruptOptions<unknown>)]);
}

/** A resume value recorded while no interrupt was pending (NULL_RESUME): the interrupt that takes it. */
export interface UnaskedResume {
  value: unknown;
  takenBy: string | undefined;
}

/**
 * The options an answer is checked with in the node: `options`, unless the question was asked
 * with another schema (by a version of the node deployed before this one): the answer was checked
 * against that one, stored with the interrupt, when it was given, and is the node's to read as
 * such. undefined when `record` (the question as asked) is not known.
 */
function askedWithSchema<R>(
  record: { resumeSchema?: Record<string, unknown> } | undefined,
  options: InterruptOptions<R> | undefined,
): InterruptOptions<R> | undefined {
  if (record === undefined || options?.schema === undefined) return options;
  // As stored: through JSON, which drops what it cannot hold.
  const now = JSON.parse(
    JSON.stringify(interruptRecord("", null, { schema: options.schema as z.ZodType<unknown> }).resumeSchema),
  );
  // Deep equality ignores key order, which jsonb does not keep.
  if (isDeepStrictEqual(record.resumeSchema, now)) return options;
  const { schema: _asked, ...rest } = options;
  return rest;
}

function checkedResume<R>(id: string, resumed: unknown, options: InterruptOptions<R> | undefined): R {
  if (options?.schema === undefined) return resumed as R;
  const parsed = options.schema.safeParse(resumed);
  if (!parsed.success) {
    const { texts, redacted } = issueTexts(options.schema, parsed.error.issues);
    throw new InvalidResumeError(id, texts, true, redacted);
  }
  return parsed.data;
}

/**
 * Checks a resume value against the JSON Schema stored with the interrupt; returns the problems
 * found (none: empty lists), as written and as logs show them.
 */
export function resumeIssues(record: Interrupt, value: unknown): IssueTexts {
  if (record.resumeSchema === undefined) return { texts: [], redacted: [] };
  const schema = compiledJsonSchema(record.resumeSchema);
  const result = schema.safeParse(value);
  return result.success ? { texts: [], redacted: [] } : issueTexts(schema, result.error.issues);
}
