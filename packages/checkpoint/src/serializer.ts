import { NotSerializableError } from "./errors.ts";

/**
 * Turns checkpoint values into text and back.
 *
 * What survives a round trip exactly: JSON values (objects, arrays, strings, finite numbers,
 * booleans, null) and also `NaN`/`±Infinity`, `Date`, `Map`, `Set`, `BigInt` and `Uint8Array`,
 * at any depth. `undefined` reads back as `undefined`: an array slot keeps its position, an
 * object key holding `undefined` reads back as absent.
 * What does not: class instances come back as plain objects (own enumerable fields only,
 * no prototype); objects with a `toJSON` method are stored as what it returns. LangChain
 * messages (`HumanMessage`, `AIMessage`, `ToolMessage`…) are the exception, as in LangGraph:
 * stored in LangChain's serialized form, they come back as instances of their class when
 * `@langchain/core` is installed.
 * What is refused with `NotSerializableError`: functions and symbols.
 */
export interface Serializer {
  dumps(value: unknown): string;
  loads(text: string): unknown;
}

const TAG = "__lo";

type Tagged = { [TAG]: string; v?: unknown };

function tag(kind: string, v?: unknown): Tagged {
  return v === undefined ? { [TAG]: kind } : { [TAG]: kind, v };
}

function replacer(this: Record<string, unknown>, key: string, value: unknown): unknown {
  // A Date's toJSON has already turned `value` into a string (or null): look at the raw value.
  const raw = this[key];
  if (raw instanceof Date) return tag("Date", Number.isNaN(raw.getTime()) ? null : raw.toISOString());
  switch (typeof value) {
    case "string":
    case "boolean":
      return value;
    case "number":
      return Number.isFinite(value) ? value : tag("num", String(value));
    case "undefined":
      return tag("undef");
    case "bigint":
      return tag("BigInt", value.toString());
    case "function":
    case "symbol":
      throw new NotSerializableError(
        key,
        `Cannot store a ${typeof value} (at key "${key}"): checkpoint values must be data. ` +
          "Keep functions and symbols out of graph state.",
        `Cannot store a ${typeof value}: checkpoint values must be data. Keep functions and symbols out of graph state.`,
      );
  }
  if (value === null) return null;
  if (value instanceof Map) return tag("Map", Array.from(value));
  if (value instanceof Set) return tag("Set", Array.from(value));
  if (value instanceof Uint8Array) return tag("Bytes", Buffer.from(value).toString("base64"));
  if (!Array.isArray(value) && Object.hasOwn(value as object, TAG)) {
    return tag("Obj", Object.entries(value as object));
  }
  return value;
}

function revive(kind: string, v: unknown): unknown {
  switch (kind) {
    case "undef":
      return undefined;
    case "num":
      return Number(v);
    case "BigInt":
      return BigInt(v as string);
    case "Date":
      return new Date(v === null ? Number.NaN : (v as string));
    case "Map":
      return new Map(v as [unknown, unknown][]);
    case "Set":
      return new Set(v as unknown[]);
    case "Bytes":
      return new Uint8Array(Buffer.from(v as string, "base64"));
    case "Obj":
      return Object.fromEntries(v as [string, unknown][]);
    default:
      throw new Error(`Unknown serialized tag "${kind}": the data was written by a newer Layover.`);
  }
}

/**
 * LangChain's message classes, when the application has `@langchain/core` (an optional peer):
 * the same module instance the application imports, so `instanceof` holds.
 */
const langchainMessages = (await import("@langchain/core/messages").catch(() => undefined)) as
  | Record<string, unknown>
  | undefined;

/** `{ lc: 1, type: "constructor", id: ["langchain_core", "messages", Name], kwargs }`, as a message. */
type MessageClass = new (fields: unknown) => unknown;

/**
 * A LangChain message again from its serialized form (`{ lc: 1, type: "constructor", id, kwargs }`,
 * what `JSON.stringify` makes of one), when `@langchain/core` is installed; `value` itself otherwise.
 */
export function reviveLangChain(value: Record<string, unknown>): unknown {
  const id = value.id;
  if (langchainMessages === undefined || value.type !== "constructor" || !Array.isArray(id)) return value;
  if (id[0] !== "langchain_core" || id[1] !== "messages") return value;
  const name = String(id[id.length - 1]);
  const Message = langchainMessages[name] as MessageClass | undefined;
  const isMessage = langchainMessages.isBaseMessage as ((value: unknown) => boolean) | undefined;
  // Only message classes (capitalised exports whose instances are messages) are built from data.
  if (typeof Message !== "function" || isMessage === undefined || !/^[A-Z]\w*Message(Chunk)?$/.test(name))
    return value;
  try {
    const message = new Message(value.kwargs);
    return isMessage(message) ? message : value;
  } catch {
    return value;
  }
}

/**
 * An array's `undefined` item while its array is read: JSON.parse deletes an item its reviver
 * makes undefined, leaving a hole (`1 in [1, , 3]` false, skipped by map and forEach). The array,
 * revived after its items, puts `undefined` back in the slot.
 */
const UNDEFINED_ITEM = Symbol("undefined item");
let undefinedItems = 0;

function reviver(this: unknown, _key: string, value: unknown): unknown {
  if (typeof value !== "object" || value === null) return value;
  if (Array.isArray(value)) return undefinedItems === 0 ? value : withUndefinedItems(value);
  const kind = (value as Tagged)[TAG];
  if (typeof kind !== "string") {
    return (value as { lc?: unknown }).lc === 1 ? reviveLangChain(value as Record<string, unknown>) : value;
  }
  if (kind === "undef" && Array.isArray(this)) {
    undefinedItems += 1;
    return UNDEFINED_ITEM;
  }
  return revive(kind, (value as Tagged).v);
}

function withUndefinedItems(array: unknown[]): unknown[] {
  for (let i = 0; i < array.length; i++) {
    if (array[i] !== UNDEFINED_ITEM) continue;
    array[i] = undefined;
    undefinedItems -= 1;
  }
  return array;
}

/**
 * A value that contains itself, refused as data that cannot be stored (the run fails, as for a
 * function), not left a TypeError (a job retried for ever); its message names the keys on the
 * cycle, which may be the user's data: logs get it without them.
 */
function cycleRefusal(error: unknown): NotSerializableError | undefined {
  const cycle = error instanceof TypeError && /circular structure/i.test(error.message);
  // A cycle through a Map or a Set (each stored as a new object, which V8 cannot tell apart)
  // recurses until the stack runs out, as a value nested too deep for JSON does.
  const deep = error instanceof RangeError && /call stack/i.test(error.message);
  if (!cycle && !deep) return undefined;
  const message = cycle
    ? "Cannot store a value that contains itself (a cycle): checkpoint values must be data (a tree)."
    : "Cannot store a value that contains itself (a cycle through a Map or a Set) or nests too deep for JSON: checkpoint values must be data (a tree).";
  return new NotSerializableError("", `${message} ${(error as Error).message}`, message);
}

export const jsonSerializer: Serializer = {
  dumps(value: unknown): string {
    try {
      return JSON.stringify({ "": value }, replacer);
    } catch (error) {
      throw cycleRefusal(error) ?? error;
    }
  },
  loads(text: string): unknown {
    undefinedItems = 0; // a parse that threw midway left none pending
    const wrapper = JSON.parse(text, reviver) as { "": unknown } | undefined;
    return wrapper?.[""];
  },
};
