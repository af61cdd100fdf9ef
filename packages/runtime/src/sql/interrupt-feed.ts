// The feed of interrupts as they become pending (client.interrupts.watch), in the order of the
// transactions that parked them (parked_xid, migrations/0020), read through
// interrupts_pending_parked: each read costs the rows parked since the cursor, not every
// interrupt pending.
import type { Db } from "../db.ts";
import { INTERRUPT_COLUMNS, type InterruptRow } from "./interrupts.ts";

/** Where a feed reader stands: the last row it delivered, in the feed's order. */
export interface FeedPosition {
  /** The parking transaction's id (xid8, as text). */
  xid: string;
  /** Its place among that park's questions (parked_order: asked_order then; 0 before 0020). */
  order: number;
  id: string;
}

/** Before every row: a feed from the start. */
export const FEED_START: FeedPosition = { xid: "0", order: -1, id: "" };

export interface FeedRead {
  /** Pending rows after the position whose parking transaction ended, in the feed's order. */
  rows: Array<InterruptRow & { position: FeedPosition }>;
  /**
   * A row after them is pending from a transaction younger than one still running: it is
   * delivered once the older transaction ends, so read again soon.
   */
  withheld: boolean;
  /** Read `limit` rows: more may follow at once. */
  full: boolean;
}

/** Pending interrupts parked after `after` (of `graphId` if given), at most `limit`. */
export async function readFeed(
  db: Db,
  after: FeedPosition,
  limit: number,
  graphId: string | undefined,
): Promise<FeedRead> {
  const { rows } = await db.pool.query<InterruptRow & { xid: string; ord: number; settled: boolean }>(
    `SELECT ${INTERRUPT_COLUMNS.join(", ")}, parked_xid::text AS xid, parked_order AS ord,
            parked_xid < pg_snapshot_xmin(pg_current_snapshot()) AS settled
       FROM ${db.table("interrupts")}
      WHERE (status = 'pending') IS TRUE AND parked_xid >= $1::xid8
        AND (parked_xid, parked_order, id) > ($1::xid8, $2::int, $3::text)
        AND ($4::text IS NULL OR graph_id = $4)
      ORDER BY parked_xid, parked_order, id LIMIT $5`,
    [after.xid, after.order, after.id, graphId ?? null, limit],
  );
  const settled = rows.findIndex((row) => !row.settled);
  const delivered = settled === -1 ? rows : rows.slice(0, settled);
  return {
    rows: delivered.map(({ xid, ord, settled: _, ...row }) => ({
      ...(row as InterruptRow),
      position: { xid, order: ord, id: row.id },
    })),
    withheld: settled !== -1,
    full: settled === -1 && rows.length === limit,
  };
}

/** The position a feed "from now" starts at: after every transaction that has ended. */
export async function feedNow(db: Db): Promise<FeedPosition> {
  const { rows } = await db.pool.query<{ xid: string }>(
    "SELECT pg_snapshot_xmin(pg_current_snapshot())::text AS xid",
  );
  return { xid: (rows[0] as { xid: string }).xid, order: -1, id: "" };
}
