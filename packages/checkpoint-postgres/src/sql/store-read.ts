/**
 * store-read — a batch's consecutive reads (get, search, listNamespaces) as one statement: one
 * round trip and one snapshot. Each operation is a branch of a UNION ALL whose rows carry the
 * operation's position (`op`) and an item's columns; the rows come back in operation order, each
 * search's in its order (updated_at DESC, then namespace and key by code point).
 *
 * get     equality on the primary key
 * search  the prefix's range of the primary key (store-params.ts), the filter (store-filter.ts) on
 *         those rows, sorted, LIMIT/OFFSET: it reads the rows under the prefix, and no others.
 *         With a query (an indexed store), each of those rows is scored from its vectors
 *         (store-vectors.ts) and the rows are ranked by score first: an exact ranking that
 *         reads every vector under the prefix the filter keeps, as LangGraph's InMemoryStore
 *         scores every candidate (no approximate index)
 * listNamespaces  store-namespaces.ts
 * Every row has a score column (null but for a search with a query).
 */
import type { GetOperation, Operation, SearchOperation } from "@layover/checkpoint";
import { filterConditions } from "./store-filter.ts";
import { listNamespacesSql } from "./store-namespaces.ts";
import { prefixRange, StatementParams } from "./store-params.ts";
import { type QueryVector, scoreJoin } from "./store-vectors.ts";

/** A read and its position in the batch; a search with a query has the query's vector. */
export interface PlacedRead {
  index: number;
  op: Exclude<Operation, { value: unknown }>;
  query?: QueryVector | undefined;
}

/** A row of a read statement: an item (a search's or a get's), or a namespace (listNamespaces). */
export interface ReadRow {
  op: number;
  namespace: string[];
  key: string | null;
  value: Record<string, unknown> | null;
  created_at: Date | null;
  updated_at: Date | null;
  score: number | null;
}

const ITEM = "i.namespace, i.key, i.value, i.created_at, i.updated_at";

function getSql(s: string, index: number, op: GetOperation, params: StatementParams): string {
  const place = `namespace = ${params.add(op.namespace, "text[]")} AND key = ${params.add(op.key, "text")}`;
  return `SELECT ${index} AS op, ${ITEM}, NULL::double precision AS score FROM ${s}.store_items i WHERE ${place}`;
}

function searchSql(
  s: string,
  { index, op, query }: PlacedRead & { op: SearchOperation },
  params: StatementParams,
): string {
  const scored = query === undefined ? undefined : scoreJoin(s, query, params);
  const conditions = [prefixRange("i.namespace", op.namespacePrefix, params)];
  conditions.push(...filterConditions(op.filter, params));
  return `SELECT ${index} AS op, ${ITEM}, ${scored ? "v.score" : "NULL::double precision AS score"}
FROM ${s}.store_items i ${scored ?? ""}
WHERE ${conditions.join("\n  AND ")}
ORDER BY ${scored ? "v.score DESC NULLS LAST, " : ""}i.updated_at DESC, i.namespace, i.key
LIMIT ${params.add(op.limit ?? 10, "bigint")} OFFSET ${params.add(op.offset ?? 0, "bigint")}`;
}

function readSql(s: string, read: PlacedRead, params: StatementParams): string {
  const { index, op } = read;
  if ("namespacePrefix" in op) return searchSql(s, { ...read, op }, params);
  if ("namespace" in op) return getSql(s, index, op, params);
  return listNamespacesSql(s, index, op, params);
}

/** The statement of `reads` (at least one), in schema `s` (quoted). */
export function readStatement(s: string, reads: readonly PlacedRead[]): { text: string; values: unknown[] } {
  const params = new StatementParams();
  const branches = reads.map((read) => `(${readSql(s, read, params)})`);
  const text = `SELECT * FROM (${branches.join("\nUNION ALL\n")}) r
ORDER BY op, score DESC NULLS LAST, updated_at DESC, namespace COLLATE "C", key COLLATE "C"`;
  return { text, values: params.values };
}
