// The texts of a document a store embeds, picked by LangGraph's field paths: "$" the whole
// document, "a.b" a nested field, "a[0]", "a[-1]" and "a[*]" array elements, "*" every value of
// an object or array, "{a,b.c}" several fields at once. What a path finds is embedded as text:
// strings as they are, numbers and booleans as their text, objects and arrays as their JSON
// (indented by two spaces, as LangGraph's), null and missing fields not at all.

/** A path cut at its dots, keeping bracketed and braced parts whole: "a[*].b" → ["a", "[*]", "b"]. */
export function tokenizePath(path: string): string[] {
  const tokens: string[] = [];
  let current = "";
  const flush = () => {
    if (current !== "") tokens.push(current);
    current = "";
  };
  for (let i = 0; i < path.length; i += 1) {
    const char = path[i] as string;
    if (char === "[" || char === "{") {
      flush();
      const end = closing(path, i);
      tokens.push(path.slice(i, end + 1));
      i = end;
    } else if (char === ".") flush();
    else current += char;
  }
  flush();
  return tokens;
}

/** Where the bracket or brace opened at `start` closes (nesting counted); the path's end if never. */
function closing(path: string, start: number): number {
  const open = path[start];
  const close = open === "[" ? "]" : "}";
  let depth = 0;
  for (let i = start; i < path.length; i += 1) {
    if (path[i] === open) depth += 1;
    else if (path[i] === close && --depth === 0) return i;
  }
  return path.length - 1;
}

/** A found value as the text to embed; none for null or a missing field. */
function asText(value: unknown): string[] {
  if (typeof value === "string") return [value];
  if (typeof value === "number" || typeof value === "boolean") return [String(value)];
  if (value !== null && typeof value === "object") return [JSON.stringify(value, null, 2)];
  return [];
}

const isObject = (value: unknown): value is Record<string, unknown> =>
  value !== null && typeof value === "object";

/** The value a plain dotted path leads to inside `value`, if it leads anywhere. */
function fieldAt(value: unknown, path: string): unknown {
  let current = value;
  for (const token of tokenizePath(path)) {
    if (!isObject(current) || !(token in current)) return undefined;
    current = current[token];
  }
  return current;
}

function elementAt(list: unknown[], index: string): unknown[] {
  if (index === "*") return list;
  const n = Number.parseInt(index, 10);
  if (Number.isNaN(n)) return [];
  const at = n < 0 ? list.length + n : n;
  return at >= 0 && at < list.length ? [list[at]] : [];
}

function walk(value: unknown, tokens: readonly string[], at: number): string[] {
  const token = tokens[at];
  if (token === undefined) return asText(value);
  if (token.startsWith("[") && token.endsWith("]")) {
    if (!Array.isArray(value)) return [];
    return elementAt(value, token.slice(1, -1)).flatMap((item) => walk(item, tokens, at + 1));
  }
  if (token.startsWith("{") && token.endsWith("}")) {
    if (!isObject(value)) return [];
    const fields = token.slice(1, -1).split(",");
    return fields.flatMap((field) => {
      if (field.trim() === "") return [];
      const found = fieldAt(value, field.trim());
      // A null field in braces is the text "null", as in LangGraph's (not elsewhere).
      return found === undefined ? [] : found === null ? ["null"] : asText(found);
    });
  }
  if (token === "*") {
    if (!isObject(value)) return [];
    return Object.values(value).flatMap((item) => walk(item, tokens, at + 1));
  }
  if (!isObject(value) || !(token in value)) return [];
  return walk(value[token], tokens, at + 1);
}

/**
 * The texts `path` picks out of `document`. "$" is the whole document as indented JSON; a path
 * that begins "$." gives the whole document too, then what the rest finds under a "$" key (as
 * LangGraph's does: "$.title" is not "title").
 */
export function textsAtPath(document: Record<string, unknown>, path: string): string[] {
  const whole = JSON.stringify(document, null, 2);
  if (path === "$") return [whole];
  const tokens = tokenizePath(path);
  return tokens[0] === "$" ? [whole, ...walk(document, tokens, 0)] : walk(document, tokens, 0);
}
