// The timeout sweep, as one statement per batch.
//
// 1. claimed: threads with a pending interrupt whose deadline passed, oldest deadline first
//    (served by the partial index interrupts_pending_deadline, so the cost grows with the number
//    due, not the number parked), locked FOR UPDATE SKIP LOCKED: replicas of the scheduler take
//    different threads, and a thread a person is resuming right now is skipped this round.
// 2. due: each due interrupt goes pending → expired, resolved by "timeout", with its onTimeout
//    value (the interrupt's or graph's, stored at park) or the documented rejection object.
// 3. One resume run per thread, and the thread becomes busy with it unless another run holds it.
// Parameters: $1 batch size. Returns one row per resume run, and whether to enqueue it now.
import type { Db, Queryable } from "../db.ts";

export interface ExpiredRun {
  run_id: string;
  thread_id: string;
  checkpoint_id: string;
  dispatch: boolean;
}

/**
 * The claiming query on its own ($1 batch size): the threads of due pending interrupts, oldest
 * deadline first. Exported for EXPLAIN: its plan must be an index scan of the partial index
 * interrupts_pending_deadline that stops after $1 rows, never a scan of every parked interrupt.
 */
export function dueInterruptsQuery(db: Db): string {
  return `SELECT i.thread_id FROM ${db.table("interrupts")} i
                        WHERE i.status = 'pending' AND i.deadline <= now()
                        ORDER BY i.deadline LIMIT $1`;
}

/** The whole sweep statement for one batch ($1 batch size), as `expireDueInterrupts` runs it. */
export function expireDueInterruptsQuery(db: Db): string {
  return `WITH claimed AS (
       SELECT t.id, t.graph_id, t.status, gen_random_uuid() AS run_id
         FROM ${db.table("threads")} t
        WHERE t.id IN (${dueInterruptsQuery(db)})
          FOR UPDATE OF t SKIP LOCKED
     ), due AS (
       UPDATE ${db.table("interrupts")} i
          SET status = 'expired', resolved_by = 'timeout', resolved_at = now(), resume_run_id = c.run_id,
              resume_value = COALESCE(i.options -> 'onTimeout', jsonb_build_object(
                'action', 'reject', 'reason', 'timeout',
                'timedOutAt', to_char(i.deadline AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')))
         FROM claimed c
        WHERE i.thread_id = c.id AND i.status = 'pending' AND i.deadline <= now()
        RETURNING i.thread_id, i.id, i.resume_value, i.checkpoint_id, c.run_id, c.graph_id, c.status AS thread_status
     ), resumed AS (
       INSERT INTO ${db.table("runs")} (id, thread_id, graph_id, kind, input, checkpoint_id)
       SELECT run_id, thread_id, graph_id, 'resume', jsonb_build_object('resume', jsonb_object_agg(id, resume_value)),
              min(checkpoint_id)
         FROM due GROUP BY run_id, thread_id, graph_id
       RETURNING id, thread_id, checkpoint_id
     ), taken AS (
       UPDATE ${db.table("threads")} t
          SET status = 'busy', current_run_id = r.id, updated_at = now()
         FROM resumed r JOIN claimed c ON c.id = r.thread_id
        WHERE t.id = r.thread_id AND c.status <> 'busy'
        RETURNING t.id
     )
     SELECT r.id AS run_id, r.thread_id, r.checkpoint_id, (k.id IS NOT NULL) AS dispatch
       FROM resumed r LEFT JOIN taken k ON k.id = r.thread_id`;
}

export async function expireDueInterrupts(db: Db, q: Queryable, batchSize: number): Promise<ExpiredRun[]> {
  const { rows } = await q.query<ExpiredRun>(expireDueInterruptsQuery(db), [batchSize]);
  return rows;
}
