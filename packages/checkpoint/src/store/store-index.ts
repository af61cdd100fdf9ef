// Semantic search: a store given an index ({ dims, embeddings, fields }) embeds the texts of the
// documents it is given and the queries it is asked, and ranks a search's items by the cosine
// similarity of their closest text to the query — LangGraph's IndexConfig, for InMemoryStore and
// PostgresStore alike. Everything a batch needs is embedded before any of it runs: embeddings
// that fail or answer with the wrong number of dimensions change nothing.
import { textsAtPath } from "./text-paths.ts";
import type { Operation, PutOperation } from "./types.ts";
import { checkFields, checkVectorPlaceSize, InvalidStoreOperationError } from "./validate.ts";

/** What embeds texts: LangChain's `Embeddings` (OpenAIEmbeddings, …) is one. */
export interface Embeddings {
  embedDocuments(texts: string[]): Promise<number[][]>;
  embedQuery(text: string): Promise<number[]>;
}

/** LangGraph's IndexConfig: how a store embeds documents for `search(prefix, { query })`. */
export interface IndexConfig {
  /** How many numbers the embeddings give for a text. */
  dims: number;
  embeddings: Embeddings;
  /**
   * The field paths whose texts are embedded, each its own vector ("$": the whole document; see
   * text-paths.ts for the syntax). A put's own `index` list replaces these; `false` embeds none.
   * @defaultValue ["$"]
   */
  fields?: string[];
}

/** An index config that was checked. */
export interface StoreIndex {
  dims: number;
  embeddings: Embeddings;
  fields: readonly string[];
}

/** `index` as callers gave it (a store's `indexConfig`, as LangGraph's), a copy they may change. */
export function indexConfigOf(index: StoreIndex | undefined): IndexConfig | undefined {
  return index && { dims: index.dims, embeddings: index.embeddings, fields: [...index.fields] };
}

/** One embedded text of an item: the field path it came from (`path.i` for the i-th of several), its vector and that vector's length. */
export interface FieldVector {
  field: string;
  vector: number[];
  norm: number;
}

/** Refuses an index a store could not embed with; the checked index otherwise. */
export function checkIndexConfig(index: unknown, store: string): StoreIndex {
  const config = index as Partial<IndexConfig> | null;
  const example = `new ${store}({ index: { dims: 1536, embeddings: new OpenAIEmbeddings() } })`;
  if (config === null || typeof config !== "object") {
    throw new InvalidStoreOperationError(`A store's index is an object, such as ${example}.`);
  }
  if (typeof config.dims !== "number" || !Number.isSafeInteger(config.dims) || config.dims < 1) {
    throw new InvalidStoreOperationError(
      `A store's index.dims is the number of dimensions its embeddings give (a whole number of at least 1); got ${String(config.dims)}.`,
    );
  }
  const { embeddings } = config;
  if (typeof embeddings?.embedDocuments !== "function" || typeof embeddings.embedQuery !== "function") {
    throw new InvalidStoreOperationError(
      `A store's index.embeddings embeds texts: an object with embedDocuments(texts) and embedQuery(text), such as LangChain's OpenAIEmbeddings: ${example}.`,
    );
  }
  const fields = config.fields ?? ["$"];
  checkFields(fields, "A store's index.fields");
  return { dims: config.dims, embeddings, fields: [...fields] };
}

/**
 * A vector as the stores keep it: each number rounded to 4 bytes (Postgres's real, pgvector's
 * vector), in memory too, so both stores score alike and a text's own vector scores 1. Refused
 * when it has not `dims` numbers, or one is not finite or beyond what 4 bytes hold.
 */
function checkVector(vector: unknown, dims: number, what: string): number[] {
  const numbers =
    Array.isArray(vector) && vector.length === dims && vector.every((n) => typeof n === "number");
  const kept = numbers ? (vector as number[]).map((n) => Math.fround(n)) : undefined;
  if (kept?.every((n) => Number.isFinite(n))) return kept;
  const got = Array.isArray(vector) ? `${vector.length} numbers` : typeof vector;
  throw new InvalidStoreOperationError(
    `The store's embeddings gave ${got} for ${what}, not ${dims} finite numbers within ±3.4e38 (index.dims). Nothing was written: give the index the dims of its embeddings model.`,
  );
}

/** A put's texts to embed, by field: nothing for a delete or `index: false`. */
function textsOf(index: StoreIndex, op: PutOperation): { field: string; text: string }[] {
  if (op.value === null || op.index === false) return [];
  // A path given twice is embedded once, as LangGraph's keeps one vector per field.
  const paths = [...new Set(op.index ?? index.fields)];
  const named = paths.flatMap((path) => {
    const texts = textsAtPath(op.value as Record<string, unknown>, path);
    if (texts.length === 1) return [{ field: path, text: texts[0] as string }];
    return texts.map((text, i) => ({ field: `${path}.${i}`, text }));
  });
  // One vector per name: `notes[*]`'s first text is `notes[*].0`, which a path may name too.
  const seen = new Set<string>();
  const unique = named.filter(({ field }) => {
    if (seen.has(field)) return false;
    seen.add(field);
    return true;
  });
  for (const { field } of unique) checkVectorPlaceSize(op.namespace, op.key, field);
  return unique;
}

/** A batch's embeddings: each put's field vectors (by the op's position) and each query's vector. */
export interface BatchVectors {
  puts: Map<number, FieldVector[]>;
  queries: Map<string, number[]>;
}

/**
 * Embeds what `operations` need: every put's texts in one embedDocuments call (each distinct text
 * once), and each distinct query once. A put of an indexed store always gets an entry (empty when
 * nothing is embedded), so the store replaces what its earlier value had.
 */
export async function embedBatch(index: StoreIndex, operations: readonly Operation[]): Promise<BatchVectors> {
  const wanted = new Map<number, { field: string; text: string }[]>();
  const queries = new Set<string>();
  operations.forEach((op, i) => {
    if ("namespacePrefix" in op) {
      if (op.query) queries.add(op.query);
    } else if ("value" in op) wanted.set(i, textsOf(index, op));
  });
  const texts = [...new Set([...wanted.values()].flat().map(({ text }) => text))];
  const embedded = texts.length === 0 ? [] : await index.embeddings.embedDocuments(texts);
  if (!Array.isArray(embedded) || embedded.length !== texts.length) {
    throw new InvalidStoreOperationError(
      `The store's embeddings gave ${Array.isArray(embedded) ? embedded.length : "no list of"} vectors for ${texts.length} texts. Nothing was written.`,
    );
  }
  const byText = new Map(
    texts.map((text, i) => {
      const vector = checkVector(embedded[i], index.dims, "a text");
      return [text, { vector, norm: norm(vector) }];
    }),
  );
  const puts = new Map(
    [...wanted].map(([i, fields]) => [
      i,
      fields.map(({ field, text }) => ({ field, ...(byText.get(text) as Omit<FieldVector, "field">) })),
    ]),
  );
  const asked = [...queries];
  const answers = await Promise.all(asked.map((query) => index.embeddings.embedQuery(query)));
  const vectors = asked.map((query, i) => [query, checkVector(answers[i], index.dims, "a query")] as const);
  return { puts, queries: new Map(vectors) };
}

/** The length of a vector. */
export function norm(vector: readonly number[]): number {
  let sum = 0;
  for (const n of vector) sum += n * n;
  return Math.sqrt(sum);
}

/** Cosine similarity of `a` (of length `aNorm`) and a field's vector; 0 when either is all zeros (LangGraph's rule). */
export function cosine(a: readonly number[], aNorm: number, b: FieldVector): number {
  const lengths = aNorm * b.norm;
  if (lengths === 0) return 0;
  const { vector } = b;
  let dot = 0;
  for (let i = 0; i < a.length; i += 1) dot += (a[i] as number) * (vector[i] as number);
  return dot / lengths;
}
