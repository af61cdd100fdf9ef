/**
 * store-namespaces — listNamespaces: the namespaces holding items that meet the match
 * conditions, cut to maxDepth labels, sorted, paged. Without reading the items: a recursive walk
 * of the primary key that probes (one index descent, LIMIT 1) for the next namespace after the
 * last one it found, and so reads one index entry per namespace it passes, however many items
 * each holds.
 *
 * Each probe starts after the last namespace found — `w.ns || U+0001`: no label is less than
 * U+0001, so nothing lies between — or, once that namespace met the conditions and has maxDepth
 * labels or more, after every namespace cut to the same labels (the prefix range's upper bound),
 * which are all one result already. The leading labels every prefix condition fixes (up to its
 * first "*") bound the walk to their range (store-params.ts); other labels and suffix conditions
 * are checked on each namespace passed. The walk stops once it has offset + limit results.
 *
 * Cost: offset + limit probes when every namespace in the range meets the conditions (a prefix
 * without "*"); otherwise also one per namespace passed that does not (a suffix condition over
 * the whole store passes every namespace up to the page's end). Never one per item.
 * Parameters: the fixed prefix's range, each condition's path (text[]), maxDepth, offset + limit,
 * limit, offset. Index: store_items_pkey.
 */
import type { ListNamespacesOperation, MatchCondition } from "@layover/checkpoint";
import { prefixRange, type StatementParams } from "./store-params.ts";

const MAX_INT = 2 ** 31 - 1;

/** Whether namespace `ns` meets a condition: its labels at the path's place equal the path's, or "*". */
function conditionSql(ns: string, { matchType, path }: MatchCondition, params: StatementParams): string {
  const p = params.add(path, "text[]");
  const at = matchType === "prefix" ? "c.i" : `cardinality(${ns}) - cardinality(${p}) + c.i`;
  return `(cardinality(${ns}) >= cardinality(${p}) AND NOT EXISTS (
      SELECT 1 FROM unnest(${p}) WITH ORDINALITY AS c(label, i)
      WHERE c.label <> '*' AND c.label <> ${ns}[${at}]))`;
}

/** The longest run of leading labels without "*" among the prefix conditions. */
function fixedPrefix(conditions: readonly MatchCondition[]): string[] {
  let fixed: string[] = [];
  for (const { matchType, path } of conditions) {
    if (matchType !== "prefix") continue;
    const wildcard = path.indexOf("*");
    const leading = wildcard === -1 ? path : path.slice(0, wildcard);
    if (leading.length > fixed.length) fixed = leading;
  }
  return fixed;
}

/** Rows (op, namespace, and NULL for the item columns) of listNamespaces operation `index`. */
export function listNamespacesSql(
  s: string,
  index: number,
  op: ListNamespacesOperation,
  params: StatementParams,
) {
  const conditions = op.matchConditions ?? [];
  const range = prefixRange("i.namespace", fixedPrefix(conditions), params);
  const meets = conditions.map((condition) => conditionSql("nxt.namespace", condition, params));
  // Any safe integer is a page or a depth (the contract's rule): bigint, and a depth cut to
  // Postgres's array bound (more labels than any namespace has).
  const depth = op.maxDepth === undefined ? undefined : params.add(Math.min(op.maxDepth, MAX_INT), "int");
  const pastCut =
    depth === undefined
      ? ""
      : `WHEN w.matched AND cardinality(w.ns) >= ${depth} THEN w.ns[1:${depth} - 1] || (w.ns[${depth}] || chr(1))`;
  const want = params.add(op.offset + op.limit, "bigint");
  const cut = depth === undefined ? "ns" : `ns[1:${depth}]`;
  return `
WITH RECURSIVE walk(ns, matched, found) AS (
  SELECT NULL::text[] COLLATE "C", false, 0
  UNION ALL
  SELECT nxt.namespace, ok.matched, w.found + ok.matched::int
  FROM walk w
  CROSS JOIN LATERAL (
    SELECT i.namespace FROM ${s}.store_items i
    WHERE i.namespace >= CASE WHEN w.ns IS NULL THEN '{}'::text[] ${pastCut} ELSE w.ns || chr(1) END
      AND ${range}
    ORDER BY i.namespace LIMIT 1) nxt
  CROSS JOIN LATERAL (SELECT ${meets.join(" AND ") || "true"} AS matched) ok
  WHERE w.found < ${want}
)
SELECT ${index} AS op, ${cut} AS namespace, NULL::text AS key,
       NULL::jsonb AS value, NULL::timestamptz AS created_at, NULL::timestamptz AS updated_at,
       NULL::double precision AS score
FROM walk WHERE matched
ORDER BY ${cut} COLLATE "C" LIMIT ${params.add(op.limit, "bigint")} OFFSET ${params.add(op.offset, "bigint")}`;
}
