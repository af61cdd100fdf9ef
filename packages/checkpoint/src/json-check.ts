import { NotSerializableError } from "./errors.ts";

function describe(value: unknown): string {
  if (typeof value === "function") return "a function";
  if (typeof value === "bigint") return "a BigInt";
  if (typeof value === "symbol") return "a symbol";
  if (typeof value === "number") return `the number ${value}`;
  if (value === undefined) return "undefined";
  const name = (value as object).constructor?.name;
  return name ? `an instance of ${name}` : "an object with a custom prototype";
}

function isPlainObject(value: object): boolean {
  const proto = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

function childPath(path: string, key: string | number): string {
  if (typeof key === "number") return `${path}[${key}]`;
  return /^[A-Za-z_$][\w$]*$/.test(key) ? `${path}.${key}` : `${path}[${JSON.stringify(key)}]`;
}

function fail(what: string, path: string, value: unknown, hint: string): never {
  const message = (where: string) =>
    `${what} must be JSON-serialisable, but ${where} is ${describe(value)}. ${hint}`;
  throw new NotSerializableError(path, message(path), message("a value in it"));
}

/**
 * Throws `NotSerializableError` naming the path of the first value that would not survive
 * `JSON.stringify` unchanged: functions, symbols, BigInt, non-finite numbers, class
 * instances (Date, Map, a class with methods…), cycles, and `undefined` inside arrays.
 */
export function assertJsonSerialisable(value: unknown, what: string, path = "$"): void {
  walk(value, what, path, new Set());
}

function walk(value: unknown, what: string, path: string, ancestors: Set<object>): void {
  switch (typeof value) {
    case "string":
    case "boolean":
      return;
    case "number":
      if (!Number.isFinite(value)) fail(what, path, value, "Use null or a string instead.");
      return;
    case "undefined":
      return;
    case "object":
      break;
    default:
      fail(what, path, value, "Pass plain data (objects, arrays, strings, numbers, booleans, null).");
  }
  if (value === null) return;
  if (ancestors.has(value)) fail(what, path, value, "The value contains a cycle: it refers back to itself.");
  ancestors.add(value);
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      const item = value[i];
      if (item === undefined)
        fail(what, childPath(path, i), item, "JSON turns undefined array items into null.");
      walk(item, what, childPath(path, i), ancestors);
    }
  } else {
    if (!isPlainObject(value)) {
      fail(what, path, value, "Convert it to plain data first (e.g. a Date to date.toISOString()).");
    }
    for (const [key, item] of Object.entries(value)) walk(item, what, childPath(path, key), ancestors);
  }
  ancestors.delete(value);
}
