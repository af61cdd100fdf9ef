/**
 * delete-threads — removes threads entirely, every namespace. Two statements in one
 * transaction. The first deletes (and so locks) the head rows and returns their keys: a
 * concurrent put on those keys waits, then fails its compare-and-set (a put that creates the
 * thread anew gets a new key). The second deletes every row of those keys.
 *
 * Parameters: lock-thread-heads $1 thread ids (text[]); delete-key-rows $1 key ids (bigint[]).
 * Indexes: checkpoint_heads_pkey (thread_id leads); the other primary keys (key_id leads).
 */
export function lockThreadHeadsSql(s: string): string {
  return `DELETE FROM ${s}.checkpoint_heads WHERE thread_id = ANY($1::text[]) RETURNING thread_id, key_id`;
}

export function deleteKeyRowsSql(s: string): string {
  return `
WITH checkpoints AS (DELETE FROM ${s}.checkpoints WHERE key_id = ANY($1::bigint[]) RETURNING 1),
     blobs AS (DELETE FROM ${s}.checkpoint_blobs WHERE key_id = ANY($1::bigint[]) RETURNING 1),
     writes AS (DELETE FROM ${s}.checkpoint_writes WHERE key_id = ANY($1::bigint[]) RETURNING 1)
SELECT (SELECT count(*) FROM checkpoints)::int AS checkpoints,
       (SELECT count(*) FROM blobs)::int AS blobs,
       (SELECT count(*) FROM writes)::int AS writes`;
}
