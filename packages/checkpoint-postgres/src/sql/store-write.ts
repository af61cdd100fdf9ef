/**
 * store-write — a batch's consecutive puts and deletes of distinct keys as one statement: the
 * deletes (value null) in a data-modifying CTE, the puts as one upsert. Keys are distinct (the
 * batch starts a new statement when a key comes again), so the two parts touch different rows
 * and the order between them does not matter. Puts upsert in code point order of (namespace,
 * key), after the statement took its keys' advisory locks (placeLocks): two batches writing the
 * same keys never deadlock, whatever mix of puts and deletes they hold. Each put counts in the
 * item's version; in an indexed store it also drops what the old value embedded (store_vectors,
 * migration 0004), and the next statement stores the new value's (store-vectors.ts).
 *
 * Times: every item the statement stores gets one time, clock_timestamp() — the time the
 * statement runs, not the transaction's start, so a batch's later statements get later times —
 * cut to the millisecond, as JavaScript's Date holds it. The search order (updated_at DESC, then
 * namespace and key) is then the order of the items as callers see them, and two puts in the
 * same millisecond tie and order by namespace and key, as InMemoryStore's do. A put keeps the
 * item's created_at; its updated_at never moves back (GREATEST): a put whose time was taken
 * before a concurrent one's, but that committed after it, wins the value with the later time.
 *
 * Parameter: $1 jsonb, a list of [namespace, key, value] (a put) or [namespace, key] (a delete).
 * Index: store_items_pkey (the upsert's conflict target, the deletes' join).
 */
import { compareNamespaces, compareText, type PutOperation } from "@layover/checkpoint";
import { ENTRY_NAMESPACE, placeLocks } from "./store-params.ts";

function byPlace(a: PutOperation, b: PutOperation): number {
  return compareNamespaces(a.namespace, b.namespace) || compareText(a.key, b.key);
}

/** The statement of `writes` (distinct keys), in schema `s` (quoted). */
export function writeStatement(
  s: string,
  writes: readonly PutOperation[],
  indexed = false,
): { text: string; values: unknown[] } {
  const entries = [...writes]
    .sort(byPlace)
    .map(({ namespace, key, value }) => (value === null ? [namespace, key] : [namespace, key, value]));
  const text = `
WITH given AS (
  SELECT ${ENTRY_NAMESPACE} AS namespace, e ->> 1 AS key, e -> 2 AS value, w.n
  FROM jsonb_array_elements($1::jsonb) WITH ORDINALITY AS w(e, n)
), locked AS (
  ${placeLocks(s, "given")}
), input AS (
  SELECT * FROM given WHERE (SELECT n FROM locked) >= 0
), deleted AS (
  DELETE FROM ${s}.store_items t USING input i
  WHERE i.value IS NULL AND t.namespace = i.namespace AND t.key = i.key
), ${
    indexed
      ? `unembedded AS (
  DELETE FROM ${s}.store_vectors v USING input i
  WHERE i.value IS NOT NULL AND v.namespace = i.namespace AND v.key = i.key
), `
      : ""
  }stamp AS (
  SELECT date_trunc('milliseconds', clock_timestamp()) AS now
)
INSERT INTO ${s}.store_items AS t (namespace, key, value, created_at, updated_at)
SELECT i.namespace, i.key, i.value, stamp.now, stamp.now FROM input i, stamp
WHERE i.value IS NOT NULL
ORDER BY i.n
ON CONFLICT (namespace, key) DO UPDATE
  SET value = EXCLUDED.value, updated_at = GREATEST(t.updated_at, EXCLUDED.updated_at), version = t.version + 1`;
  return { text, values: [JSON.stringify(entries)] };
}

/** A statement taking the advisory locks of every place `writes` write (placeLocks), returning no row. */
export function lockStatement(
  s: string,
  writes: readonly PutOperation[],
): { text: string; values: unknown[] } {
  const places = `(SELECT ${ENTRY_NAMESPACE} AS namespace, e ->> 1 AS key FROM jsonb_array_elements($1::jsonb) AS e) p`;
  return {
    text: `SELECT 1 WHERE (${placeLocks(s, places)}) < 0`,
    values: [JSON.stringify(writes.map(({ namespace, key }) => [namespace, key]))],
  };
}
