import { hasLoneSurrogate } from "@layover/checkpoint";

export { meantHint, unknownKeys, unknownKeysProblem } from "@layover/checkpoint";

import { InvalidInputError } from "@layover/graph";

/**
 * The longest thread id or idempotency key taken, in bytes of UTF-8. Postgres indexes them, the
 * two together in runs_idempotency, and an index entry holds at most about 2.7 kB: two of these
 * fit, where a longer one would fail the write with a DatabaseError.
 */
export const MAX_KEY_BYTES = 1024;

/** `value` as an error message shows it: a long string by its length, not in full. */
export function shown(value: unknown): string {
  if (typeof value === "string" && value.length > 80) return `a string of ${value.length} characters`;
  return JSON.stringify(value) ?? String(value);
}

/**
 * `value` as an error message shows it, with its type where the text alone would hide it: the
 * string "10" from a query string is not the number 10, nor "2020-01-01" a Date.
 */
export function shownTyped(value: unknown): string {
  if (value instanceof Date)
    return Number.isNaN(value.getTime()) ? "an invalid Date" : `the Date ${value.toISOString()}`;
  if (typeof value === "string") return `the string ${shown(value)}`;
  return shown(value);
}

/**
 * Whether `text` holds a control character (C0, DEL or C1): what a terminal would act on, such
 * as a newline that starts a forged line of output or an escape sequence.
 */
export function hasControlCharacter(text: string): boolean {
  return CONTROL_CHARACTER.test(text);
}

// biome-ignore lint/suspicious/noControlCharactersInRegex: finding them is the point
const CONTROL_CHARACTER = /[\u0000-\u001f\u007f-\u009f]/;

/** The longest BullMQ prefix taken: its keys and its connections' names begin with it. */
export const MAX_PREFIX_LENGTH = 256;

/**
 * Why `value` cannot be a deployment's BullMQ prefix (LAYOVER_PREFIX), undefined when it can:
 * printable ASCII without spaces. BullMQ names each Redis connection after the prefix, Redis
 * refuses a name with a space, newline or other character outside "!" to "~", and BullMQ goes on
 * unnamed: its workers then run the prefix's jobs, but nothing can count them (layover-admin,
 * getWorkers).
 */
export function prefixProblem(value: unknown): string | undefined {
  if (typeof value === "string" && /^[!-~]+$/.test(value) && value.length <= MAX_PREFIX_LENGTH)
    return undefined;
  return `1 to ${MAX_PREFIX_LENGTH} printable ASCII characters without spaces ("!" to "~", such as "layover" or "layover-eu"): Redis refuses any other in the names BullMQ gives its connections after it`;
}

/** The earliest time Postgres's timestamptz holds (4714 BC, November 24); JavaScript's latest it holds too. */
const EARLIEST_TIMESTAMP_MS = Date.UTC(-4713, 10, 24);

/** Whether `value` is a Date Postgres can compare with its times: valid, and not before 4714 BC. */
export function isStorableDate(value: unknown): value is Date {
  return value instanceof Date && value.getTime() >= EARLIEST_TIMESTAMP_MS;
}

/**
 * Why `value` cannot be stored as a key (`maxBytes` given) or a name, such as a thread id or who
 * resolved an interrupt: not a string, empty, or with a NUL character or half a surrogate pair
 * (Postgres text cannot hold either: it would store another key, that another call's may equal).
 * Undefined when it can.
 */
export function textProblem(value: unknown, maxBytes = Number.POSITIVE_INFINITY): string | undefined {
  if (
    typeof value !== "string" ||
    value === "" ||
    value.includes("\u0000") ||
    hasLoneSurrogate(value) ||
    (Number.isFinite(maxBytes) && Buffer.byteLength(value) > maxBytes)
  )
    return `a non-empty string${Number.isFinite(maxBytes) ? ` of at most ${maxBytes} bytes (UTF-8)` : ""} without NUL characters or half a surrogate pair`;
  return undefined;
}

/**
 * Refuses `value` as `name` (a thread id, an idempotency key) unless it is undefined or a key
 * Postgres can hold; `leftOut` says what leaving it out does, `nothing` what was not done.
 */
export function checkKey(
  value: unknown,
  name: string,
  leftOut: string,
  nothing = "Nothing was written.",
): void {
  const problem = value === undefined ? undefined : textProblem(value, MAX_KEY_BYTES);
  if (problem !== undefined)
    throw new InvalidInputError(
      `${name} must be ${problem}, or left out ${leftOut}; got ${shown(value)}. ${nothing}`,
    );
}

/**
 * Whether `id` could name a row (a thread, a graph): a string without a NUL character or half a
 * surrogate pair. Postgres text cannot hold either (a query for a NUL fails, one for half a pair
 * finds another id), so such an id is answered as naming none.
 */
export function isStorableId(id: unknown): id is string {
  return typeof id === "string" && !id.includes("\u0000") && !hasLoneSurrogate(id);
}
