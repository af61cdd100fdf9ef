/**
 * store-single — a batch of one get, put or delete (what BaseStore's get, put and delete send)
 * as a short prepared statement: planned once per connection, where a batch's general statement
 * (store-read.ts, store-write.ts) is planned on every call. The same rows and rules: a put keeps
 * created_at, stamps both times with one clock_timestamp() cut to the millisecond, and never moves
 * updated_at back, counts the item's puts (version), and a delete takes the place's advisory lock
 * first (see store-write.ts). A put here is a store's without an index, or of a value with nothing
 * to embed: it leaves the old value's vectors, which no longer count (store-vectors.ts).
 * Index: store_items_pkey.
 */
import type { Operation } from "@layover/checkpoint";
import { statementName } from "../schema-name.ts";
import { placeLock } from "./store-params.ts";

export interface NamedStatement {
  name: string;
  text: string;
  values: unknown[];
}

const ITEM = "namespace, key, value, created_at, updated_at";

/** The prepared statement of a batch of one get, put or delete; undefined for any other batch. */
export function singleStatement(
  s: string,
  schema: string,
  operations: readonly Operation[],
): NamedStatement | undefined {
  const [op] = operations;
  if (operations.length !== 1 || op === undefined || !("namespace" in op)) return undefined;
  if (!("value" in op)) {
    return {
      name: statementName("store_get", schema),
      text: `SELECT 0 AS op, ${ITEM} FROM ${s}.store_items WHERE namespace = $1::text[] AND key = $2::text`,
      values: [op.namespace, op.key],
    };
  }
  const lock = placeLock(s, "$1::text[]", "$2::text");
  if (op.value === null) {
    return {
      name: statementName("store_delete", schema),
      text: `WITH locked AS (SELECT ${lock} AS done)
DELETE FROM ${s}.store_items WHERE namespace = $1::text[] AND key = $2::text AND (SELECT true FROM locked)`,
      values: [op.namespace, op.key],
    };
  }
  return {
    name: statementName("store_put", schema),
    text: `INSERT INTO ${s}.store_items AS t (${ITEM})
SELECT $1::text[], $2::text, $3::jsonb, stamp.now, stamp.now
FROM (SELECT date_trunc('milliseconds', clock_timestamp()) AS now) stamp
ON CONFLICT (namespace, key) DO UPDATE
  SET value = EXCLUDED.value, updated_at = GREATEST(t.updated_at, EXCLUDED.updated_at), version = t.version + 1`,
    values: [op.namespace, op.key, JSON.stringify(op.value)],
  };
}
