/**
 * store-vectors — what an indexed store writes and reads beside its items (migration 0004).
 *
 * Write: in an indexed store, a batch's statement of puts drops the put items' vectors
 * (store-write.ts) and the next statement inserts the new values', in (namespace, key, field)
 * order, stamped with the item's version the put made. A put by a store without an index writes
 * no vectors and leaves the old ones, which no longer count: a search scores an item by the
 * vectors of its current version only. A deleted item's rows go with it (the foreign key's
 * cascade).
 *
 * Read: a search with a query ranks its items by `score`, the cosine similarity of the closest of
 * each item's vectors to the query's: the dot product in double precision over the two arrays
 * side by side (each number widened as it is read: casting the whole array first cost 17% more),
 * divided by both lengths (0 when either is 0, as LangGraph's stores score it). An
 * item with no vector of the query's length has no score and comes after those that do.
 * Index: store_vectors_pkey (an item's vectors: a search's scores, a put's drop, the cascade);
 * store_items_pkey (the version a vector gets: one probe per row, where a join hashed the table).
 */
import type { FieldVector, PutOperation } from "@layover/checkpoint";
import { ENTRY_NAMESPACE, type StatementParams } from "./store-params.ts";

/** The statement that stores the vectors of `puts` (values, whose old vectors the write statement dropped), at their items' versions. */
export function vectorStatement(
  s: string,
  puts: readonly { op: PutOperation; vectors: readonly FieldVector[] }[],
): { text: string; values: unknown[] } {
  const rows = puts.flatMap(({ op, vectors }) =>
    vectors.map(({ field, vector, norm }) => [op.namespace, op.key, field, vector, norm]),
  );
  const text = `
INSERT INTO ${s}.store_vectors (namespace, key, field, embedding, norm, version)
SELECT g.namespace, g.key, g.field, g.embedding, g.norm,
       (SELECT t.version FROM ${s}.store_items t WHERE t.namespace = g.namespace AND t.key = g.key)
FROM (
  SELECT ${ENTRY_NAMESPACE} AS namespace, e ->> 1 AS key, e ->> 2 AS field,
         ARRAY(SELECT x::real FROM jsonb_array_elements_text(e -> 3) WITH ORDINALITY AS v(x, n) ORDER BY v.n)
           AS embedding,
         (e ->> 4)::double precision AS norm
  FROM jsonb_array_elements($1::jsonb) AS e
) g
ORDER BY 1, 2, 3`;
  return { text, values: [JSON.stringify(rows)] };
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
                  ELSE (SELECT sum(a::double precision * b) FROM unnest(x.embedding, ${vector}) AS d(a, b))
                       / (x.norm * ${length}) END) AS score
  FROM ${s}.store_vectors x
  WHERE x.namespace = i.namespace AND x.key = i.key AND x.version = i.version
    AND cardinality(x.embedding) = cardinality(${vector})
) v ON true`;
}
