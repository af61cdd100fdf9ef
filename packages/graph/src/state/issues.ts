// zod issues as error text, twice: as written, and for logs that redact users' data. A path can
// hold the user's data (a record's keys: emails, customer ids) and so can one message (the keys
// a strict object did not expect); the schema's own field names, array indexes and zod's other
// messages (expected types, limits, formats, allowed values) hold the schema's words only.
import type { z } from "zod";

/** What a redacted path shows for a key that is the user's data, not a name in the schema. */
export const REDACTED_KEY = "[key]";

/** Issue texts, as written and as logs show them when payloads are redacted. */
export interface IssueTexts {
  texts: string[];
  redacted: string[];
}

type Def = { type?: string; [field: string]: unknown };

const defOf = (schema: z.ZodType | undefined): Def | undefined =>
  (schema as { _zod?: { def?: Def } } | undefined)?._zod?.def;

/** Wrappers whose inner schema the path goes on through. */
const WRAPPERS = new Set(["optional", "nullable", "default", "prefault", "catch", "readonly", "nonoptional"]);

/** The schema under its wrappers (optional, default, pipe's input, lazy's target…). */
function unwrapped(schema: z.ZodType | undefined): z.ZodType | undefined {
  let current = schema;
  for (let depth = 0; depth < 32; depth++) {
    const def = defOf(current);
    if (def?.type !== undefined && WRAPPERS.has(def.type)) current = def.innerType as z.ZodType;
    else if (def?.type === "pipe") current = def.in as z.ZodType;
    else if (def?.type === "lazy") current = (def.getter as () => z.ZodType)();
    else return current;
  }
  return current;
}

/**
 * `path` with each key the schema does not name replaced by REDACTED_KEY: a record's or map's
 * keys, and any key below a schema it cannot follow (a union). Array and tuple indexes stay.
 */
export function redactedPath(schema: z.ZodType | undefined, path: readonly PropertyKey[]): string[] {
  const shown: string[] = [];
  let current = schema;
  for (const segment of path) {
    const def = defOf(unwrapped(current));
    // A number is a position under an array or a tuple; under a map it is the user's key.
    if (typeof segment === "number" && (def?.type === "array" || def?.type === "tuple")) {
      shown.push(String(segment));
      current = (def.type === "array" ? def.element : (def.items as z.ZodType[])[segment]) as
        | z.ZodType
        | undefined;
      continue;
    }
    const shape = def?.type === "object" ? (def.shape as Record<string, z.ZodType>) : undefined;
    if (typeof segment === "string" && shape !== undefined && Object.hasOwn(shape, segment)) {
      shown.push(segment);
      current = shape[segment];
    } else {
      shown.push(REDACTED_KEY);
      current = def?.type === "record" || def?.type === "map" ? (def.valueType as z.ZodType) : undefined;
    }
  }
  return shown;
}

/** The issue's message for logs: the keys a strict object refused are counted, not named. */
function redactedMessage(issue: z.core.$ZodIssue): string {
  if (issue.code !== "unrecognized_keys") return issue.message;
  const n = issue.keys.length;
  return `Unrecognized ${n === 1 ? "key" : `keys (${n})`}`;
}

/** Each issue as `path: message` (just the message at the root), as written and redacted. */
export function issueTexts(schema: z.ZodType | undefined, issues: readonly z.core.$ZodIssue[]): IssueTexts {
  const joined = (path: readonly PropertyKey[], message: string) =>
    path.length ? `${path.map(String).join(".")}: ${message}` : message;
  return {
    texts: issues.map((issue) => joined(issue.path, issue.message)),
    redacted: issues.map((issue) => joined(redactedPath(schema, issue.path), redactedMessage(issue))),
  };
}
