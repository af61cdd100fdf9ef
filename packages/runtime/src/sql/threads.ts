// Threads: one row per conversation/workflow instance. Served by the primary key.
import type { Db, Queryable } from "../db.ts";

export type ThreadStatus = "idle" | "busy" | "interrupted" | "error";

export interface ThreadRow {
  id: string;
  graph_id: string;
  status: ThreadStatus;
  current_run_id: string | null;
  head_checkpoint: string | null;
  created_at: Date;
  updated_at: Date;
}

/** Locks the thread row for the rest of the transaction; undefined when there is none. */
export async function lockThread(db: Db, q: Queryable, id: string): Promise<ThreadRow | undefined> {
  const { rows } = await q.query<ThreadRow>(`SELECT * FROM ${db.table("threads")} WHERE id = $1 FOR UPDATE`, [
    id,
  ]);
  return rows[0];
}

export async function getThread(db: Db, q: Queryable, id: string): Promise<ThreadRow | undefined> {
  const { rows } = await q.query<ThreadRow>(`SELECT * FROM ${db.table("threads")} WHERE id = $1`, [id]);
  return rows[0];
}

export async function setThreadState(
  db: Db,
  q: Queryable,
  id: string,
  change: { status: ThreadStatus; currentRunId: string | null; headCheckpoint?: string | null },
): Promise<void> {
  await q.query(
    `UPDATE ${db.table("threads")}
        SET status = $2, current_run_id = $3, head_checkpoint = COALESCE($4, head_checkpoint), updated_at = now()
      WHERE id = $1`,
    [id, change.status, change.currentRunId, change.headCheckpoint ?? null],
  );
}
