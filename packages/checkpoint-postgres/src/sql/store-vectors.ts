/**
 * store-vectors — what an indexed store writes and reads beside its items (migration 0004).
 *
 * Write: after a batch's statement of puts, one statement sets each put item's vectors to the
 * ones it was given: rows of its fields upserted, rows of fields it no longer has deleted (the two
 * touch different rows). Rows go in in (namespace, key, field) order, as the items do, so two
 * batches lock them in one order. A deleted item's rows go with it (the foreign key's cascade).
 *
 * Read: a search with a query ranks its items by `score`, the cosine similarity of the closest of
 * each item's vectors to the query's: the dot product in double precision over the two arrays
 * side by side, divided by both lengths (0 when either is 0, as LangGraph's stores score it). An
 * item with no vector of the query's length has no score and comes after those that do.
 * Index: store_vectors_pkey (an item's vectors; the upsert's conflict target; the deletes' join).
 */
import type { FieldVector, PutOperation } from "@layover/checkpoint";
import type { StatementParams } from "./store-params.ts";

/** A namespace label list from its JSON, keeping the labels' order. */
const namespaceOf = (json: string) =>
  `ARRAY(SELECT label FROM jsonb_array_elements_text(${json}) WITH ORDINALITY AS l(label, n) ORDER BY l.n)`;

/** The statement that sets the vectors of `puts` (values, not deletes), each given by its position. */
export function vectorStatement(
  s: string,
  puts: readonly { op: PutOperation; vectors: readonly FieldVector[] }[],
  norm: (vector: readonly number[]) => number,
): { text: string; values: unknown[] } {
  const items = puts.map(({ op }) => [op.namespace, op.key]);
  const rows = puts.flatMap(({ op, vectors }) =>
    vectors.map(({ field, vector }) => [op.namespace, op.key, field, vector, norm(vector)]),
  );
  const text = `
WITH input AS (
  SELECT ${namespaceOf("e -> 0")} AS namespace, e ->> 1 AS key, e ->> 2 AS field,
         ARRAY(SELECT x::real FROM jsonb_array_elements_text(e -> 3) WITH ORDINALITY AS v(x, n) ORDER BY v.n)
           AS embedding,
         (e ->> 4)::double precision AS norm
  FROM jsonb_array_elements($1::jsonb) AS e
), items AS (
  SELECT ${namespaceOf("e -> 0")} AS namespace, e ->> 1 AS key FROM jsonb_array_elements($2::jsonb) AS e
), stale AS (
  DELETE FROM ${s}.store_vectors v USING items i
  WHERE v.namespace = i.namespace AND v.key = i.key
    AND NOT EXISTS (SELECT 1 FROM input x WHERE x.namespace = v.namespace AND x.key = v.key AND x.field = v.field)
)
INSERT INTO ${s}.store_vectors AS t (namespace, key, field, embedding, norm)
SELECT namespace, key, field, embedding, norm FROM input
ORDER BY namespace, key, field
ON CONFLICT (namespace, key, field) DO UPDATE SET embedding = EXCLUDED.embedding, norm = EXCLUDED.norm`;
  return { text, values: [JSON.stringify(rows), JSON.stringify(items)] };
}

/** A search's query as the statement takes it. */
export interface QueryVector {
  vector: readonly number[];
  norm: number;
}

/** The score column of a search of items `i` for `query` (a lateral subquery over their vectors). */
export function scoreJoin(s: string, query: QueryVector, params: StatementParams): string {
  const vector = params.add(query.vector, "double precision[]");
  const length = params.add(query.norm, "double precision");
  return `LEFT JOIN LATERAL (
  SELECT max(CASE WHEN x.norm = 0 OR ${length} = 0 THEN 0
                  ELSE (SELECT sum(a * b) FROM unnest(x.embedding::double precision[], ${vector}) AS d(a, b))
                       / (x.norm * ${length}) END) AS score
  FROM ${s}.store_vectors x
  WHERE x.namespace = i.namespace AND x.key = i.key AND cardinality(x.embedding) = cardinality(${vector})
) v ON true`;
}
