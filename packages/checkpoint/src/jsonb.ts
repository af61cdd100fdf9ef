import { NotSerializableError } from "./errors.ts";
import { assertJsonSerialisable } from "./json-check.ts";

/** Half of a surrogate pair, which UTF-8 (and so Postgres) cannot encode. */
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/** Whether `text` holds half a surrogate pair (cut through an emoji), which Postgres cannot store. */
export function hasLoneSurrogate(text: string): boolean {
  return LONE_SURROGATE.test(text);
}

/** Text Postgres's jsonb cannot hold. */
export type UnstorableText = { path: string; holds: "nul" | "surrogate" };

function textProblem(text: string): UnstorableText["holds"] | undefined {
  if (text.includes("\u0000")) return "nul";
  return LONE_SURROGATE.test(text) ? "surrogate" : undefined;
}

/**
 * Where `value` holds text Postgres's jsonb (the runtime's columns for inputs, answers and
 * interrupt values) cannot store: a NUL character (U+0000) or half a surrogate pair, at a path
 * such as `note` or `items[2].text`; undefined when there is none. Checkpoints are text and store
 * both; these columns refuse them, so callers refuse them first with a clear error.
 */
export function unstorableText(value: unknown, path = ""): UnstorableText | undefined {
  if (typeof value === "string") {
    const holds = textProblem(value);
    return holds === undefined ? undefined : { path: path || "(the value)", holds };
  }
  if (typeof value !== "object" || value === null) return undefined;
  if (Array.isArray(value)) {
    for (const [i, item] of value.entries()) {
      const found = unstorableText(item, `${path}[${i}]`);
      if (found !== undefined) return found;
    }
    return undefined;
  }
  for (const [key, item] of Object.entries(value)) {
    const at = path ? `${path}.${key}` : key;
    const holds = textProblem(key);
    if (holds !== undefined) return { path: at, holds };
    const found = unstorableText(item, at);
    if (found !== undefined) return found;
  }
  return undefined;
}

/**
 * `value` with each LangChain object (a message: `lc_serializable`) in the serialized form
 * `JSON.stringify` stores, `{ lc: 1, type: "constructor", id, kwargs }`, which the engine reads
 * back as the message (the messages reducer, the checkpoint serializer).
 */
function asStoredJson(value: unknown, ancestors = new Set<object>()): unknown {
  if (typeof value !== "object" || value === null) return value;
  // A value inside itself is left as it is: the check names the cycle (walking it would not end).
  if (ancestors.has(value)) return value;
  const serializable = value as { lc_serializable?: unknown; toJSON?: () => unknown };
  if (serializable.lc_serializable === true && typeof serializable.toJSON === "function")
    return asStoredJson(serializable.toJSON(), ancestors);
  const proto = Object.getPrototypeOf(value);
  if (!Array.isArray(value) && proto !== Object.prototype && proto !== null) return value; // the check names it
  ancestors.add(value);
  try {
    // Copied only where something inside changed: plain JSON (most inputs) is returned as it is.
    if (Array.isArray(value)) {
      const items = value.map((item) => asStoredJson(item, ancestors));
      return items.every((item, i) => item === value[i]) ? value : items;
    }
    const entries = Object.entries(value);
    const stored = entries.map(([, item]) => asStoredJson(item, ancestors));
    if (stored.every((item, i) => item === entries[i]?.[1])) return value;
    return Object.fromEntries(entries.map(([key], i) => [key, stored[i]]));
  } finally {
    ancestors.delete(value);
  }
}

/**
 * Why `what` cannot be stored in the runtime's jsonb columns as it is, if it cannot: a value
 * JSON would change or drop (a Map, a Date, a BigInt, a function…), a NUL character or half a
 * surrogate pair. Undefined when it can.
 */
export function jsonbProblem(value: unknown, what: string): string | undefined {
  return jsonbIssue(value, what)?.message;
}

/**
 * jsonbProblem's, with the message for logs (`redactedMessage`): without the path, whose keys
 * may be the user's data (an email keying a record).
 */
export function jsonbIssue(
  value: unknown,
  what: string,
): { message: string; redactedMessage: string } | undefined {
  try {
    return storableIssue(value, what);
  } catch (error) {
    // The checks walk the value recursively: thousands of levels deep, they run out of stack.
    if (!(error instanceof RangeError)) throw error;
    const message = `${what} is nested too deeply to check (thousands of levels of objects or lists): store it flatter, or as a string of JSON.`;
    return { message, redactedMessage: message };
  }
}

function storableIssue(
  value: unknown,
  what: string,
): { message: string; redactedMessage: string } | undefined {
  try {
    assertJsonSerialisable(asStoredJson(value), what);
  } catch (error) {
    if (error instanceof NotSerializableError)
      return { message: error.message, redactedMessage: error.redactedMessage ?? error.message };
    throw error;
  }
  const found = unstorableText(value);
  if (found === undefined) return undefined;
  const message = (at: string) =>
    found.holds === "nul"
      ? `${what} holds a NUL character (\\u0000) ${at}, which Postgres cannot store: remove or replace it.`
      : `${what} holds half a surrogate pair ${at} (text cut through an emoji?), which Postgres cannot store: fix the text, or replace it with text.toWellFormed().`;
  return { message: message(`at ${found.path}`), redactedMessage: message("in a value") };
}
