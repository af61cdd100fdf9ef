import { createHash } from "node:crypto";

/**
 * A deterministic UUID-shaped id from its parts: the same checkpoint, namespace, node and
 * position always give the same task id, and the same task and call index the same interrupt id.
 */
export function deterministicId(...parts: ReadonlyArray<string | number>): string {
  const hex = createHash("sha1").update(parts.join("\u0000")).digest("hex");
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-5${hex.slice(13, 16)}-a${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}

/** Interrupt (and task) ids as deterministicId makes them: name-based, version 5 UUIDs. */
const INTERRUPT_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/i;

/**
 * Whether `key` has the shape of an interrupt id (a version 5 UUID), as LangGraph.js tells its
 * own (32 hex digits): an object keyed by such ids answers interrupts by id; an object keyed by
 * other UUIDs (records' random v4 or time-ordered v7 ids) is an answer itself.
 */
export function isInterruptIdShaped(key: string): boolean {
  return INTERRUPT_ID.test(key);
}
