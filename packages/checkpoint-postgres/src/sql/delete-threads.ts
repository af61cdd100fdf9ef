/**
 * delete-threads — removes threads entirely, every namespace. Two statements in one
 * transaction: the first deletes (and so locks) the head rows, which makes concurrent puts
 * on those keys wait and then fail their compare-and-set; the second, with a fresh snapshot,
 * deletes every row of those threads, including any committed just before the locks.
 *
 * Parameter: $1 thread ids (text[]). Indexes: the primary keys (thread_id leads each).
 */
export function lockThreadHeadsSql(s: string): string {
  return `DELETE FROM ${s}.checkpoint_heads WHERE thread_id = ANY($1::text[])`;
}

export function deleteThreadRowsSql(s: string): string {
  return `
WITH heads AS (DELETE FROM ${s}.checkpoint_heads WHERE thread_id = ANY($1::text[])),
     checkpoints AS (DELETE FROM ${s}.checkpoints WHERE thread_id = ANY($1::text[]) RETURNING thread_id),
     blobs AS (DELETE FROM ${s}.checkpoint_blobs WHERE thread_id = ANY($1::text[]) RETURNING 1),
     writes AS (DELETE FROM ${s}.checkpoint_writes WHERE thread_id = ANY($1::text[]) RETURNING 1)
SELECT (SELECT count(DISTINCT thread_id) FROM checkpoints)::int AS threads,
       (SELECT count(*) FROM checkpoints)::int AS checkpoints,
       (SELECT count(*) FROM blobs)::int AS blobs,
       (SELECT count(*) FROM writes)::int AS writes`;
}
