import { InvalidInputError } from "@layover/graph";
import type { Db } from "../db.ts";
import { type InterruptStatus, type ListInterruptsQuery, listInterrupts } from "../sql/interrupts.ts";
import { toPendingInterrupt } from "./read.ts";

const STATUSES: ReadonlySet<unknown> = new Set<InterruptStatus>([
  "pending",
  "resolved",
  "expired",
  "cancelled",
]);

/** A timestamptz as Postgres writes it in ISO DateStyle (which node-postgres needs): a cursor's first part. */
const POSTGRES_TIMESTAMPTZ = /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d(\.\d{1,6})?[+-]\d\d(:\d\d){0,2}$/;

/** Refuses a query Postgres would fail on or misread, saying which field and why. */
function checkQuery(query: ListInterruptsQuery): void {
  const refuse = (what: string) => {
    throw new InvalidInputError(`interrupts.list: ${what}.`);
  };
  if (query.status !== undefined && !STATUSES.has(query.status))
    refuse(
      `status must be "pending", "resolved", "expired" or "cancelled"; got ${JSON.stringify(query.status)}`,
    );
  if (query.limit !== undefined && !(Number.isSafeInteger(query.limit) && query.limit > 0))
    refuse(`limit must be a whole number above 0 (at most 1,000 are returned); got ${String(query.limit)}`);
  if (
    query.olderThan !== undefined &&
    !(query.olderThan instanceof Date && !Number.isNaN(query.olderThan.getTime()))
  )
    refuse(`olderThan must be a valid Date; got ${String(query.olderThan)}`);
  if (query.cursor !== undefined) {
    let after: unknown;
    try {
      after = JSON.parse(Buffer.from(query.cursor, "base64url").toString());
    } catch {
      after = undefined;
    }
    const valid =
      Array.isArray(after) &&
      after.length === 3 &&
      after.every((part) => typeof part === "string") &&
      POSTGRES_TIMESTAMPTZ.test(after[0] as string);
    if (!valid) refuse("cursor must be a nextCursor a previous page returned, unchanged");
  }
}

/** A page of interrupts, oldest first, as producers and operators see them. */
export async function listInterruptsPage(db: Db, query: ListInterruptsQuery = {}) {
  checkQuery(query);
  const page = await listInterrupts(db, query);
  return {
    interrupts: page.interrupts.map((row) => ({
      ...toPendingInterrupt(row),
      threadId: row.thread_id,
      graphId: row.graph_id,
      runId: row.run_id,
      status: row.status,
      resolvedBy: row.resolved_by,
      resolvedAt: row.resolved_at,
    })),
    nextCursor: page.nextCursor,
  };
}
