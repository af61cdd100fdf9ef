import { createHash } from "node:crypto";

/**
 * A deterministic UUID-shaped id from its parts: the same checkpoint, namespace, node and
 * position always give the same task id, and the same task and call index the same interrupt id.
 */
export function deterministicId(...parts: ReadonlyArray<string | number>): string {
  const hex = createHash("sha1").update(parts.join("\u0000")).digest("hex");
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-5${hex.slice(13, 16)}-a${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}
