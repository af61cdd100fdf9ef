// The feed of interrupts as they become pending (client.interrupts.watch), in the order of the
// transactions that parked them (parked_xid, migrations/0020), read through
// interrupts_pending_parked, or interrupts_pending_parked_by_graph for one graph's: each read
// costs the rows (of that graph) parked since the cursor, not every interrupt pending.
import type { Logger } from "pino";
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

/**
 * Pending interrupts parked after `after` (of `graphId` if given), at most `limit`; with `since`
 * (a pg_snapshot's text, see feedNow), none whose park that snapshot saw committed.
 */
export async function readFeed(
  db: Db,
  after: FeedPosition,
  limit: number,
  options: { graphId?: string | undefined; since?: string | undefined } = {},
): Promise<FeedRead> {
  const { graphId, since } = options;
  const params: unknown[] = [after.xid, after.order, after.id, limit];
  const param = (value: unknown) => `$${params.push(value)}`;
  // Separate texts, so that one graph's feed is planned on its own index, never filtered from all.
  const ofGraph = graphId === undefined ? "" : `AND graph_id = ${param(graphId)}`;
  const unseen =
    since === undefined ? "" : `AND NOT pg_visible_in_snapshot(parked_xid, ${param(since)}::pg_snapshot)`;
  const { rows } = await db.pool.query<InterruptRow & { xid: string; ord: number; settled: boolean }>(
    `SELECT ${INTERRUPT_COLUMNS.join(", ")}, parked_xid::text AS xid, parked_order AS ord,
            parked_xid < pg_snapshot_xmin(pg_current_snapshot()) AS settled
       FROM ${db.table("interrupts")}
      WHERE (status = 'pending') IS TRUE ${ofGraph} ${unseen}
        AND (parked_xid, parked_order, id) > ($1::xid8, $2::int, $3::text)
      ORDER BY parked_xid, parked_order, id LIMIT $4`,
    params,
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

/**
 * Where a feed "from now" starts: after every transaction that has ended (the snapshot's xmin),
 * and `since`, the snapshot itself: a park it saw committed (a transaction younger than one still
 * running then, with an id above xmin) is before now too, and is left out (readFeed's `since`).
 */
export async function feedNow(db: Db): Promise<{ position: FeedPosition; since: string }> {
  const { rows } = await db.pool.query<{ xid: string; since: string }>(
    "SELECT pg_snapshot_xmin(s)::text AS xid, s::text AS since FROM pg_current_snapshot() AS s",
  );
  const { xid, since } = rows[0] as { xid: string; since: string };
  return { position: { xid, order: -1, id: "" }, since };
}

/**
 * Whether `position` is ahead of every transaction this server has begun: a cursor from another
 * cluster (the deployment restored from a dump), behind which this server's parks would all
 * fall, never delivered.
 */
export async function feedAhead(db: Db, position: FeedPosition): Promise<boolean> {
  const { rows } = await db.pool.query<{ ahead: boolean }>(
    "SELECT $1::xid8 >= pg_snapshot_xmax(pg_current_snapshot()) AS ahead",
    [position.xid],
  );
  return (rows[0] as { ahead: boolean }).ahead;
}

/**
 * Moves pending interrupts whose parking transaction this server never ran (ids ahead of its
 * own: rows restored from another cluster's dump) to the feed's start, where a watch from the
 * pending delivers them; else they would be withheld until this server's ids caught up, for
 * ever in practice. Served by interrupts_pending_parked. Returns how many moved.
 */
export async function rebaseFeed(db: Db, logger: Logger): Promise<number> {
  // Each row as read, by its parked_xid then: a park that asks one of them again meanwhile (with a
  // transaction id this server just gave it) changes that, and the update leaves the row alone.
  const { rowCount } = await db.pool.query(
    `UPDATE ${db.table("interrupts")} i SET parked_xid = '0'
       FROM (SELECT thread_id, id, parked_xid FROM ${db.table("interrupts")}
              WHERE (status = 'pending') IS TRUE AND parked_xid >= pg_snapshot_xmax(pg_current_snapshot())) ahead
      WHERE i.thread_id = ahead.thread_id AND i.id = ahead.id AND i.parked_xid = ahead.parked_xid
        AND (i.status = 'pending') IS TRUE`,
  );
  const moved = rowCount ?? 0;
  if (moved > 0)
    logger.warn(
      { interrupts: moved },
      "pending interrupts parked by another Postgres cluster (restored from a dump?) moved to the start of interrupts.watch's feed; cursors kept from before are refused",
    );
  return moved;
}
