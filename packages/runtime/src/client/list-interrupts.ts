import { InvalidInputError } from "@layover/graph";
import type { Db } from "../db.ts";
import { isStorableDate, isStorableId, shown, shownTyped } from "../keys.ts";
import {
  type InterruptRow,
  type InterruptStatus,
  type ListInterruptsQuery,
  listInterrupts,
} from "../sql/interrupts.ts";
import { toPendingInterrupt } from "./read.ts";

export const LIST_QUERY_KEYS = [
  "status",
  "graphId",
  "threadId",
  "olderThan",
  "limit",
  "cursor",
] as const satisfies readonly (keyof ListInterruptsQuery)[];

const STATUSES: ReadonlySet<unknown> = new Set<InterruptStatus>([
  "pending",
  "resolved",
  "expired",
  "cancelled",
]);

/** A timestamptz as Postgres writes it in ISO DateStyle (which node-postgres needs): a cursor's first part. */
const POSTGRES_TIMESTAMPTZ =
  /^(\d{4})-(\d\d)-(\d\d) (\d\d):(\d\d):(\d\d)(\.\d{1,6})?[+-](\d\d)(?::(\d\d))?(?::(\d\d))?$/;

/** Whether `text` is a timestamptz Postgres reads: its shape, and a day and time that exist. */
function isPostgresTimestamp(text: string): boolean {
  const parts = POSTGRES_TIMESTAMPTZ.exec(text)?.slice(1, 11);
  if (parts === undefined) return false;
  const [year, month, day, hour, minute, second, , offsetHours, ...offsetRest] = parts.map(Number);
  const date = new Date(0);
  date.setUTCFullYear(year as number, (month as number) - 1, day);
  return (
    year !== 0 &&
    date.getUTCMonth() === (month as number) - 1 &&
    date.getUTCDate() === day &&
    (hour as number) < 24 &&
    (minute as number) < 60 &&
    (second as number) < 60 &&
    (offsetHours as number) < 16 &&
    offsetRest.every((n) => Number.isNaN(n) || n < 60)
  );
}

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
    refuse(
      `limit must be a whole number above 0 (at most 1,000 are returned); got ${shownTyped(query.limit)}`,
    );
  if (query.olderThan !== undefined && !isStorableDate(query.olderThan))
    refuse(
      `olderThan must be a valid Date from 4714 BC on (as Postgres holds times); got ${shownTyped(query.olderThan)}`,
    );
  for (const field of ["graphId", "threadId"] as const)
    if (query[field] != null && !isStorableId(query[field]))
      refuse(`${field} must be a string without NUL characters; got ${shown(query[field])}`);
  if (query.cursor !== undefined && !isCursor(query.cursor))
    refuse("cursor must be a nextCursor a previous page returned, unchanged");
}

/** Whether `cursor` reads as a nextCursor: [created_at as Postgres writes it, thread id, interrupt id]. */
function isCursor(cursor: string): boolean {
  let after: unknown;
  try {
    after = JSON.parse(Buffer.from(cursor, "base64url").toString());
  } catch {
    return false;
  }
  return (
    Array.isArray(after) &&
    after.length === 3 &&
    after.every(isStorableId) &&
    isPostgresTimestamp(after[0] as string)
  );
}

/** A page of interrupts, oldest first, as producers and operators see them. */
export async function listInterruptsPage(db: Db, query: ListInterruptsQuery = {}) {
  checkQuery(query);
  const page = await listInterrupts(db, query);
  return { interrupts: page.interrupts.map(listedInterrupt), nextCursor: page.nextCursor };
}

/** An interrupt as producers and operators see it in a list or a feed. */
export function listedInterrupt(row: InterruptRow) {
  return {
    ...toPendingInterrupt(row),
    threadId: row.thread_id,
    graphId: row.graph_id,
    runId: row.run_id,
    status: row.status,
    resolvedBy: row.resolved_by,
    resolvedAt: row.resolved_at,
  };
}
