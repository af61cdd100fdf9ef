// The timeout sweep, as two statements per batch in one transaction.
//
// 1. claim: threads with a pending interrupt whose deadline passed, oldest deadline first
//    (served by the partial index interrupts_pending_deadline, so the cost grows with the number
//    due, not the number parked), locked FOR UPDATE SKIP LOCKED: replicas of the scheduler take
//    different threads, and a thread a person is resuming right now is skipped this round.
// 2. expire, given the claimed threads as arrays (so the planner knows how many):
//    due: each due interrupt of those threads goes pending → expired, resolved by "timeout",
//    with its onTimeout value (the interrupt's or graph's, stored at park) or the documented
//    rejection object; resumed: one resume run per thread; taken: the thread becomes busy with
//    it unless another run holds it.
//
// Why two statements: the planner's estimate of how many interrupts are due comes from
// statistics that cannot know (after an outage, a backlog; between ANALYZEs, anything), and it
// is usually ~1 row. With the claim and the rest in one statement, that estimate sized every
// join between the CTEs: nested loops with a join filter, quadratic in the batch (1,000 × 1,000
// comparisons, three times per batch) and in the number due (claimed × every due interrupt).
// Given as constant arrays, the claimed threads are looked up by key or by hash, with no join.
import { randomUUID } from "node:crypto";
import type { Db, Queryable } from "../db.ts";
import type { ThreadStatus } from "./threads.ts";

export interface ExpiredRun {
  run_id: string;
  thread_id: string;
  checkpoint_id: string;
  /** The interrupts of the thread it expired (answered by their timeout values). */
  expired: number;
  dispatch: boolean;
}

/**
 * The claiming query ($1 batch size): the threads of due pending interrupts, oldest deadline
 * first. Exported for EXPLAIN: its plan must read the partial index interrupts_pending_deadline
 * (only pending interrupts with a deadline, from the oldest), never every parked interrupt. It
 * repeats the index's predicate word for word: no other query can use the index (the expire
 * below must probe its threads, not walk every due interrupt; migrations/0015, 0016).
 */
export function dueInterruptsQuery(db: Db): string {
  return `SELECT i.thread_id FROM ${db.table("interrupts")} i
   WHERE (i.status = 'pending' AND i.deadline IS NOT NULL) IS TRUE AND i.deadline <= now()
   ORDER BY i.deadline LIMIT $1`;
}

/** Step 1: locks the threads of up to $1 due interrupts, skipping threads locked by others. */
export function claimDueThreadsQuery(db: Db): string {
  return `SELECT t.id, t.graph_id, t.status FROM ${db.table("threads")} t
   WHERE t.id IN (${dueInterruptsQuery(db)})
     FOR UPDATE OF t SKIP LOCKED`;
}

/**
 * Step 2, on the claimed threads: $1 their ids (text[]), $2 `{ [threadId]: { run, graph } }`
 * (the new resume run's id, the thread's graph). Returns one row per resume run (as `resumed`
 * inserts them: a CTE that writes runs whether or not the query reads it) with the count of
 * interrupts it answers. Each claimed
 * thread's due interrupts are found by a probe of its own (interrupts_thread_status), and updated
 * by where they lie (a TID scan): no plan may scan every parked interrupt, or walk every due one,
 * to find a batch's (migrations/0015, 0016). The claimed threads are locked: the rows cannot move.
 */
export function expireClaimedQuery(db: Db): string {
  return `WITH due AS (
     UPDATE ${db.table("interrupts")} i
        SET status = 'expired', resolved_by = 'timeout', resolved_at = now(),
            resume_run_id = ($2::jsonb -> i.thread_id ->> 'run')::uuid,
            resume_value = COALESCE(i.options -> 'onTimeout', jsonb_build_object(
              'action', 'reject', 'reason', 'timeout',
              'timedOutAt', to_char(i.deadline AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')))
      WHERE i.ctid = ANY (ARRAY(
              SELECT d.ctid FROM unnest($1::text[]) AS t(id) CROSS JOIN LATERAL (
                SELECT j.ctid FROM ${db.table("interrupts")} j
                 WHERE j.thread_id = t.id AND j.status = 'pending' AND j.deadline <= now() OFFSET 0) d))
        AND i.status = 'pending'
      RETURNING i.thread_id, i.id, i.resume_value, i.checkpoint_id, i.resume_run_id
   ), resumed AS (
     INSERT INTO ${db.table("runs")} (id, thread_id, graph_id, kind, input, checkpoint_id)
     SELECT resume_run_id, thread_id, $2::jsonb -> thread_id ->> 'graph', 'resume',
            jsonb_build_object('resume', jsonb_object_agg(id, resume_value)), min(checkpoint_id)
       FROM due GROUP BY resume_run_id, thread_id
     RETURNING id, thread_id, checkpoint_id
   ), taken AS (
     UPDATE ${db.table("threads")} t
        SET status = 'busy', current_run_id = ($2::jsonb -> t.id ->> 'run')::uuid, updated_at = now()
      WHERE t.id IN (SELECT thread_id FROM due) AND t.status <> 'busy'
   )
   SELECT resume_run_id AS run_id, thread_id, min(checkpoint_id) AS checkpoint_id, count(*)::int AS expired
     FROM due GROUP BY resume_run_id, thread_id`;
}

/** One batch of the sweep, inside the caller's transaction: the resume runs it recorded. */
export async function expireDueInterrupts(db: Db, q: Queryable, batchSize: number): Promise<ExpiredRun[]> {
  const { rows: claimed } = await q.query<{ id: string; graph_id: string; status: ThreadStatus }>(
    claimDueThreadsQuery(db),
    [batchSize],
  );
  if (claimed.length === 0) return [];
  const runs: Record<string, { run: string; graph: string }> = {};
  for (const thread of claimed) runs[thread.id] = { run: randomUUID(), graph: thread.graph_id };
  const { rows } = await q.query<Omit<ExpiredRun, "dispatch">>(expireClaimedQuery(db), [
    claimed.map((thread) => thread.id),
    JSON.stringify(runs),
  ]);
  // A thread busy with another run keeps it: the resume runs after it (queued), not now.
  const busy = new Set(claimed.filter((thread) => thread.status === "busy").map((thread) => thread.id));
  return rows.map((row) => ({ ...row, dispatch: !busy.has(row.thread_id) }));
}
