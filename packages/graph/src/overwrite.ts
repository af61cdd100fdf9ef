/** The key of Overwrite's stored form: `{ __overwrite__: value }`. */
export const OVERWRITE = "__overwrite__";

/**
 * LangGraph's `Overwrite`: a write that sets a reducer key to `value` instead of folding it in,
 * `return { messages: new Overwrite([summary]) }`. One per key per superstep; the key's other
 * writes in that superstep after it are dropped. Its stored form is `{ __overwrite__: value }`,
 * which also counts as one.
 */
export class Overwrite<V = unknown> {
  readonly lg_name = "Overwrite";
  readonly [OVERWRITE]: V;
  constructor(value: V) {
    this[OVERWRITE] = value;
  }
  get value(): V {
    return this[OVERWRITE];
  }
  toJSON(): { [OVERWRITE]: V } {
    return { [OVERWRITE]: this[OVERWRITE] };
  }
}

const NOT_OVERWRITE: [false] = [false];

/** `[true, value]` for an Overwrite (or its stored form), `[false]` for any other write. */
export function overwriteOf(write: unknown): [true, unknown] | [false] {
  // Every reducer write passes here: plain values return at once, allocating nothing.
  if (typeof write !== "object" || write === null || Array.isArray(write)) return NOT_OVERWRITE;
  if (write instanceof Overwrite) return [true, write.value];
  const keys = Object.keys(write);
  if (keys.length === 1 && keys[0] === OVERWRITE)
    return [true, (write as Record<string, unknown>)[OVERWRITE]];
  if ((write as { lg_name?: unknown }).lg_name === "Overwrite" && OVERWRITE in write)
    return [true, (write as Record<string, unknown>)[OVERWRITE]];
  return NOT_OVERWRITE;
}
