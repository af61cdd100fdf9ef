import { createHash } from "node:crypto";

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * Run, cron and interrupt ids are UUIDs: a string that is not one names none of them (and is
 * refused before Postgres, which would raise a syntax error for it).
 */
export function isUuid(id: unknown): id is string {
  return typeof id === "string" && UUID.test(id);
}

/**
 * A UUID derived from `parts` (the same parts, the same id), in version 8's shape: not version
 * 5's, which interrupt ids have (an object keyed by those answers interrupts by id).
 */
export function derivedUuid(...parts: readonly string[]): string {
  const hex = createHash("sha256").update(parts.join("\u0000")).digest("hex");
  const variant = ((Number.parseInt(hex.charAt(16), 16) & 0x3) | 0x8).toString(16);
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-8${hex.slice(13, 16)}-${variant}${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}
