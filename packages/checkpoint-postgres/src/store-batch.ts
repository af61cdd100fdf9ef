// How PostgresStore runs a batch: its operations cut into statements that keep their order —
// each run of consecutive reads one statement (store-read.ts), each run of consecutive writes of
// distinct keys one statement (store-write.ts) — and the statements' rows turned into results.
import type { Item, Operation, PutOperation } from "@layover/checkpoint";
import { type PlacedRead, type ReadRow, readStatement } from "./sql/store-read.ts";
import { writeStatement } from "./sql/store-write.ts";

export interface Statement {
  text: string;
  values: unknown[];
}

type Segment =
  | { kind: "read"; reads: PlacedRead[] }
  | { kind: "write"; writes: PutOperation[]; places: Set<string> };

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
      last.places.add(place);
    } else segments.push({ kind: "write", writes: [op], places: new Set([place]) });
  });
  return segments;
}

/** The statements that run `operations` (checked already) in order, in schema `s` (quoted). */
export function batchStatements(s: string, operations: readonly Operation[]): Statement[] {
  return segmentsOf(operations).map((segment) =>
    segment.kind === "read" ? readStatement(s, segment.reads) : writeStatement(s, segment.writes),
  );
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

/** The batch's results from its read statements' rows: null, [] or undefined where none came. */
export function resultsOf(operations: readonly Operation[], rows: readonly ReadRow[]): unknown[] {
  const results: unknown[] = operations.map((op) => {
    if ("namespacePrefix" in op || !("namespace" in op)) return [];
    return "value" in op ? undefined : null;
  });
  for (const row of rows) {
    const op = operations[row.op] as Operation;
    if ("namespacePrefix" in op) (results[row.op] as Item[]).push(itemOf(row));
    else if ("namespace" in op) results[row.op] = itemOf(row);
    else (results[row.op] as string[][]).push(row.namespace);
  }
  return results;
}
