// How PostgresStore runs a batch: its operations cut into statements that keep their order —
// each run of consecutive reads one statement (store-read.ts), each run of consecutive writes of
// distinct keys one statement (store-write.ts), followed in an indexed store by the statement
// setting their vectors (store-vectors.ts) — and the statements' rows turned into results.
import {
  type BatchVectors,
  type Item,
  norm,
  type Operation,
  type PutOperation,
  type SearchItem,
  type SearchOperation,
} from "@layover/checkpoint";
import { type PlacedRead, type ReadRow, readStatement } from "./sql/store-read.ts";
import { vectorStatement } from "./sql/store-vectors.ts";
import { lockStatement, writeStatement } from "./sql/store-write.ts";

export interface Statement {
  text: string;
  values: unknown[];
}

type Segment =
  | { kind: "read"; reads: PlacedRead[] }
  | { kind: "write"; writes: PutOperation[]; positions: number[]; places: Set<string> };

const isWrite = (op: Operation): op is PutOperation => !("namespacePrefix" in op) && "value" in op;

/** An item's place as one string (labels and key hold no NUL). */
const placeOf = ({ namespace, key }: PutOperation) => [...namespace, key].join("\u0000");

function segmentsOf(operations: readonly Operation[]): Segment[] {
  const segments: Segment[] = [];
  operations.forEach((op, index) => {
    const last = segments.at(-1);
    if (!isWrite(op)) {
      if (last?.kind === "read") last.reads.push({ index, op });
      else segments.push({ kind: "read", reads: [{ index, op }] });
      return;
    }
    const place = placeOf(op);
    if (last?.kind === "write" && !last.places.has(place)) {
      last.writes.push(op);
      last.positions.push(index);
      last.places.add(place);
    } else segments.push({ kind: "write", writes: [op], positions: [index], places: new Set([place]) });
  });
  return segments;
}

/** A read segment with each query's vector (an indexed store's batch). */
function withQueries(reads: PlacedRead[], vectors: BatchVectors | undefined): PlacedRead[] {
  if (vectors === undefined) return reads;
  return reads.map((read) => {
    const query =
      "namespacePrefix" in read.op && read.op.query ? vectors.queries.get(read.op.query) : undefined;
    return query === undefined ? read : { ...read, query: { vector: query, norm: norm(query) } };
  });
}

/** A write segment's statement, then (an indexed store) the one setting its puts' vectors. */
function writeStatements(
  s: string,
  segment: Extract<Segment, { kind: "write" }>,
  vectors: BatchVectors | undefined,
): Statement[] {
  const statements = [writeStatement(s, segment.writes, vectors !== undefined)];
  if (vectors === undefined) return statements;
  const puts = segment.writes.flatMap((op, i) => {
    const given = op.value === null ? undefined : vectors.puts.get(segment.positions[i] as number);
    return given === undefined || given.length === 0 ? [] : [{ op, vectors: given }];
  });
  if (puts.length > 0) statements.push(vectorStatement(s, puts));
  return statements;
}

/**
 * The statements that run `operations` (checked already) in order, in schema `s` (quoted); with
 * `vectors` (an indexed store's batch, embedded already), its puts' vectors and its queries'.
 */
export function batchStatements(
  s: string,
  operations: readonly Operation[],
  vectors?: BatchVectors,
): Statement[] {
  const statements = segmentsOf(operations).flatMap((segment) =>
    segment.kind === "read"
      ? [readStatement(s, withQueries(segment.reads, vectors))]
      : writeStatements(s, segment, vectors),
  );
  // A transaction of several statements takes every place's lock it writes first: one statement's
  // locks, then another's, would wait on a batch that took them in the other order.
  const writes = operations.filter(isWrite);
  return statements.length > 1 && writes.length > 0 ? [lockStatement(s, writes), ...statements] : statements;
}

function itemOf(row: ReadRow): Item {
  return {
    namespace: row.namespace,
    key: row.key as string,
    value: row.value as Record<string, unknown>,
    createdAt: row.created_at as Date,
    updatedAt: row.updated_at as Date,
  };
}

/** A search's item: with a score where its search had a query. */
function searchItemOf(row: ReadRow, op: SearchOperation): SearchItem {
  const item = itemOf(row);
  return op.query ? { ...item, score: row.score ?? undefined } : item;
}

/** The batch's results from its read statements' rows: null, [] or undefined where none came. */
export function resultsOf(operations: readonly Operation[], rows: readonly ReadRow[]): unknown[] {
  const results: unknown[] = operations.map((op) => {
    if ("namespacePrefix" in op || !("namespace" in op)) return [];
    return "value" in op ? undefined : null;
  });
  for (const row of rows) {
    const op = operations[row.op] as Operation;
    if ("namespacePrefix" in op) (results[row.op] as SearchItem[]).push(searchItemOf(row, op));
    else if ("namespace" in op) results[row.op] = itemOf(row);
    else (results[row.op] as string[][]).push(row.namespace);
  }
  return results;
}
