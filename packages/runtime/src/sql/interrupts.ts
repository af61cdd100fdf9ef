// Interrupts: what a parked thread waits for. Pending → resolved | expired | cancelled, once.
import type { Db, Queryable } from "../db.ts";

export type InterruptStatus = "pending" | "resolved" | "expired" | "cancelled";

export interface InterruptRow {
  thread_id: string;
  id: string;
  run_id: string;
  graph_id: string;
  task_id: string;
  node: string;
  checkpoint_id: string;
  value: unknown;
  options: { timeoutMs?: number; onTimeout?: unknown; resumeSchema?: Record<string, unknown> };
  created_at: Date;
  deadline: Date | null;
  status: InterruptStatus;
  resolved_by: string | null;
  resolved_at: Date | null;
  resume_value: unknown;
  resume_run_id: string | null;
  idempotency_key: string | null;
  /** Where the thread's latest park listed it (from 1): the order its graph asked (migrations/0017). */
  asked_order: number | null;
}

/** The columns of InterruptRow, listed rather than `*` in prepared statements (see RUN_COLUMNS). */
export const INTERRUPT_COLUMNS = [
  "thread_id",
  "id",
  "run_id",
  "graph_id",
  "task_id",
  "node",
  "checkpoint_id",
  "value",
  "options",
  "created_at",
  "deadline",
  "status",
  "resolved_by",
  "resolved_at",
  "resume_value",
  "resume_run_id",
  "idempotency_key",
  "asked_order",
] as const satisfies readonly (keyof InterruptRow)[];

/** An InterruptRow that came through JSON (json_agg): its timestamps are strings again. */
/** A time as row_to_json spells it, as the driver would have given it. */
export function jsonDate(value: unknown): Date | null {
  return value === null || value === undefined ? null : new Date(value as string);
}

export function interruptFromJson(row: Record<string, unknown>): InterruptRow {
  return {
    ...(row as unknown as InterruptRow),
    created_at: jsonDate(row.created_at) as Date,
    deadline: jsonDate(row.deadline),
    resolved_at: jsonDate(row.resolved_at),
  };
}

export type NewInterrupt = Pick<
  InterruptRow,
  "thread_id" | "id" | "run_id" | "graph_id" | "task_id" | "node" | "checkpoint_id" | "value" | "options"
> & {
  /** Milliseconds from now (the database's clock) until the interrupt expires; null waits forever. */
  timeout_ms: number | null;
};

/**
 * A thread's interrupts with a status (interrupts_thread_status), in the order its graph asked
 * them (pending ones: the engine's order, migrations/0017), then oldest first.
 */
export async function threadInterrupts(
  db: Db,
  q: Queryable,
  threadId: string,
  status: InterruptStatus,
): Promise<InterruptRow[]> {
  const { rows } = await q.query<InterruptRow>(
    db.prepared(
      "thread_interrupts",
      `SELECT ${INTERRUPT_COLUMNS.join(", ")} FROM ${db.table("interrupts")}
        WHERE thread_id = $1 AND status = $2 ORDER BY asked_order, created_at, id`,
      [threadId, status],
    ),
  );
  return rows;
}

export async function interruptsById(db: Db, q: Queryable, threadId: string, ids: readonly string[]) {
  const { rows } = await q.query<InterruptRow>(
    `SELECT * FROM ${db.table("interrupts")} WHERE thread_id = $1 AND id = ANY($2::text[])`,
    [threadId, ids],
  );
  return rows;
}

/** An interrupt answered by run `runId` (resolved or expired), if any (interrupts_thread_status). */
export async function answeredBy(
  db: Db,
  q: Queryable,
  threadId: string,
  runId: string,
): Promise<InterruptRow | undefined> {
  const { rows } = await q.query<InterruptRow>(
    `SELECT * FROM ${db.table("interrupts")} WHERE thread_id = $1 AND resume_run_id = $2 LIMIT 1`,
    [threadId, runId],
  );
  return rows[0];
}

/**
 * The answer a late resume lost to: the thread's most recently closed interrupt — answered by a
 * person or the timeout sweep, or cancelled (its run cancelled, or superseded) — if nothing was
 * started on the thread since.
 * Served by the interrupts primary key (thread_id leads) and runs_thread_starts: it reads the
 * thread's closed interrupts, which grow with its history (a refused answer's explanation).
 */
export async function lastAnswer(db: Db, q: Queryable, threadId: string): Promise<InterruptRow | undefined> {
  const { rows } = await q.query<InterruptRow>(
    `SELECT l.* FROM (
       SELECT * FROM ${db.table("interrupts")}
        WHERE thread_id = $1 AND status IN ('resolved', 'expired', 'cancelled')
        ORDER BY resolved_at DESC, id DESC LIMIT 1) l
      WHERE NOT EXISTS (
        SELECT 1 FROM ${db.table("runs")} r
         WHERE r.thread_id = $1 AND (r.kind = 'start') IS TRUE AND r.created_at > l.resolved_at)`,
    [threadId],
  );
  return rows[0];
}

export interface ListInterruptsQuery {
  status?: InterruptStatus | undefined;
  graphId?: string | undefined;
  /** Only this thread's interrupts (served by interrupts_thread_status). */
  threadId?: string | undefined;
  /** Only interrupts created before this time. */
  olderThan?: Date | undefined;
  limit?: number | undefined;
  /** From a previous page's `nextCursor`. */
  cursor?: string | undefined;
}

/**
 * The predicate of the indexes that list interrupts across threads (interrupts_status_created,
 * interrupts_graph_status): a query must repeat it, word for word, to use them; no lookup of a
 * thread's own interrupts can (migrations/0013, 0014).
 */
export const LISTED = "(created_at IS NOT NULL) IS TRUE";

/**
 * Oldest first, keyset-paginated on (created_at, thread_id, id): interrupts_status_created, or
 * with a graph interrupts_graph_status (migrations/0010, 0013–0014); with a thread, its own
 * interrupts_thread_status, which the query then leaves the only choice by not saying LISTED.
 */
export async function listInterrupts(db: Db, query: ListInterruptsQuery) {
  const limit = Math.min(Math.max(query.limit ?? 50, 1), 1000);
  const after =
    query.cursor === undefined
      ? null
      : (JSON.parse(Buffer.from(query.cursor, "base64url").toString()) as string[]);
  const { rows } = await db.pool.query<InterruptRow & { cursor_ts: string }>(
    `SELECT *, created_at::text AS cursor_ts FROM ${db.table("interrupts")}
      WHERE ${query.threadId == null ? `${LISTED} AND` : ""} status = $1 AND ($2::text IS NULL OR graph_id = $2)
        AND ($3::timestamptz IS NULL OR created_at < $3)
        AND ($4::timestamptz IS NULL OR (created_at, thread_id, id) > ($4, $5, $6))
        AND ($8::text IS NULL OR thread_id = $8)
      ORDER BY created_at, thread_id, id LIMIT $7`,
    [
      query.status ?? "pending",
      query.graphId ?? null,
      query.olderThan ?? null,
      after?.[0] ?? null,
      after?.[1] ?? null,
      after?.[2] ?? null,
      limit + 1,
      query.threadId ?? null,
    ],
  );
  const page = rows.slice(0, limit);
  const last = page.at(-1);
  const nextCursor =
    rows.length > limit && last
      ? Buffer.from(JSON.stringify([last.cursor_ts, last.thread_id, last.id])).toString("base64url")
      : null;
  return { interrupts: page.map(({ cursor_ts: _, ...row }) => row as InterruptRow), nextCursor };
}

/**
 * Cancels what the thread waits for, resolved by run `runId`, which plans afresh (a fork from an
 * older checkpoint: its questions belong to the abandoned branch). The caller holds the
 * thread's row lock.
 */
export async function supersedeInterrupts(
  db: Db,
  q: Queryable,
  threadId: string,
  runId: string,
): Promise<void> {
  await q.query(
    db.prepared("supersede_interrupts", `SELECT ${db.table("supersede_interrupts")}($1, $2)`, [
      threadId,
      runId,
    ]),
  );
}
