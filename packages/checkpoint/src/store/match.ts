// How a store orders and filters items, written once for stores that hold them in memory; the
// Postgres store says the same in SQL, and the conformance suite holds both to it.
import { isDeepStrictEqual } from "node:util";
import type { Item, MatchCondition } from "./types.ts";
import { isOperatorClause } from "./validate.ts";

/** Compares strings by code point, as Postgres's "C" collation compares their UTF-8 bytes. */
export function compareText(a: string, b: string): number {
  const left = [...a];
  const right = [...b];
  for (let i = 0; i < Math.min(left.length, right.length); i++) {
    const difference = (left[i]?.codePointAt(0) ?? 0) - (right[i]?.codePointAt(0) ?? 0);
    if (difference !== 0) return difference;
  }
  return left.length - right.length;
}

/** Compares namespaces label by label, a shorter one first when it is the other's prefix. */
export function compareNamespaces(a: readonly string[], b: readonly string[]): number {
  for (let i = 0; i < Math.min(a.length, b.length); i++) {
    const difference = compareText(a[i] as string, b[i] as string);
    if (difference !== 0) return difference;
  }
  return a.length - b.length;
}

/** Search order: most recently updated first, then by namespace and key. */
export function searchOrder(a: Item, b: Item): number {
  return (
    b.updatedAt.getTime() - a.updatedAt.getTime() ||
    compareNamespaces(a.namespace, b.namespace) ||
    compareText(a.key, b.key)
  );
}

function ordered(item: unknown, operand: unknown): number | undefined {
  if (typeof item === "number" && typeof operand === "number") return item - operand;
  if (typeof item === "string" && typeof operand === "string") return compareText(item, operand);
  return undefined; // a missing value, or one of another type, matches no comparison
}

function satisfies(item: unknown, operator: string, operand: unknown): boolean {
  const order = ordered(item, operand);
  switch (operator) {
    case "$eq":
      return isDeepStrictEqual(item, operand);
    case "$ne":
      return !isDeepStrictEqual(item, operand);
    case "$gt":
      return order !== undefined && order > 0;
    case "$gte":
      return order !== undefined && order >= 0;
    case "$lt":
      return order !== undefined && order < 0;
    case "$lte":
      return order !== undefined && order <= 0;
    case "$in":
      return (operand as unknown[]).some((candidate) => isDeepStrictEqual(item, candidate));
    case "$nin":
      return !(operand as unknown[]).some((candidate) => isDeepStrictEqual(item, candidate));
    default:
      return false;
  }
}

/** Whether a value matches a search filter (checked beforehand: checkOperations). */
export function matchesFilter(
  value: Record<string, unknown>,
  filter: Record<string, unknown> | undefined,
): boolean {
  if (filter === undefined) return true;
  return Object.entries(filter).every(([key, clause]) => {
    const item = Object.hasOwn(value, key) ? value[key] : undefined;
    if (!isOperatorClause(clause)) return isDeepStrictEqual(item, clause);
    return Object.entries(clause).every(([operator, operand]) => satisfies(item, operator, operand));
  });
}

/** Whether `namespace` begins with `prefix` (every namespace begins with the empty one). */
export function hasPrefix(namespace: readonly string[], prefix: readonly string[]): boolean {
  return prefix.length <= namespace.length && prefix.every((label, i) => namespace[i] === label);
}

/** Whether a namespace meets a listNamespaces condition ("*" matches any one label). */
export function meetsCondition(namespace: readonly string[], { matchType, path }: MatchCondition): boolean {
  if (path.length > namespace.length) return false;
  const start = matchType === "prefix" ? 0 : namespace.length - path.length;
  return path.every((label, i) => label === "*" || namespace[start + i] === label);
}
