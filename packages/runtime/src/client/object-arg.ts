import { InvalidInputError } from "@layover/graph";
import { shown, unknownKeysProblem } from "../keys.ts";

/**
 * `value`, when it is an object such as `shape` (or left out, unless `required`). Anything else
 * (null, a string, an array) is refused, naming `what`: it would fail deep inside as a TypeError
 * reading its fields, or be ignored or stored as it is.
 */
export function objectArg<T>(value: T, what: string, shape: string, required = false): T {
  if (value === undefined && !required) return value;
  if (typeof value !== "object" || value === null || Array.isArray(value))
    throw new InvalidInputError(
      `${what} must be an object such as ${shape}${required ? "" : ", or left out"}; got ${shown(value)}. Nothing was written.`,
    );
  return value;
}

/**
 * Refuses an options object with a key `allowed` does not hold (a typo, an option of another
 * call), naming it and what `what` takes, instead of ignoring it (see unknownKeysProblem). `hints`
 * explain keys of other APIs; a key spelt as an allowed one but for case, `_` or `-` names it.
 */
export function knownKeys(
  options: object | undefined,
  allowed: readonly string[],
  what: string,
  nothing: string,
  hints: Readonly<Record<string, string>> = {},
) {
  const problem = unknownKeysProblem(what, options ?? {}, allowed, hints);
  if (problem !== undefined) throw new InvalidInputError(`${problem} ${nothing}`.trimEnd());
}

/** `value` as objectArg takes it (an object, or left out unless `required`), with no key but `allowed`'s. */
export function optionsArg<T extends object | undefined>(
  value: T,
  what: string,
  shape: string,
  allowed: readonly string[],
  options: { nothing?: string; required?: boolean } = {},
): T {
  objectArg(value, what, shape, options.required);
  knownKeys(value, allowed, what, options.nothing ?? "");
  return value;
}
