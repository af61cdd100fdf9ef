/**
 * Where `value` holds a NUL character (U+0000), which Postgres's jsonb (the runtime's columns
 * for inputs, answers and interrupt values) cannot store: a path such as `note` or
 * `items[2].text`, or undefined when there is none. Checkpoints are text and store it; these
 * columns refuse it, so callers refuse it first with a clear error.
 */
export function nulPath(value: unknown, path = ""): string | undefined {
  if (typeof value === "string") return value.includes("\u0000") ? path || "(the value)" : undefined;
  if (typeof value !== "object" || value === null) return undefined;
  if (Array.isArray(value)) {
    for (const [i, item] of value.entries()) {
      const found = nulPath(item, `${path}[${i}]`);
      if (found !== undefined) return found;
    }
    return undefined;
  }
  for (const [key, item] of Object.entries(value)) {
    const at = path ? `${path}.${key}` : key;
    if (key.includes("\u0000")) return at;
    const found = nulPath(item, at);
    if (found !== undefined) return found;
  }
  return undefined;
}

/** Why `what` cannot be stored, if it holds a NUL character; undefined when it can. */
export function nulProblem(value: unknown, what: string): string | undefined {
  const path = nulPath(value);
  return path === undefined
    ? undefined
    : `${what} holds a NUL character (\\u0000) at ${path}, which Postgres cannot store: remove or replace it.`;
}
