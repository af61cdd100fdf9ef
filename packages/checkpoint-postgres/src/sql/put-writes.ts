/**
 * put-writes — records a task's pending writes against a checkpoint, idempotently: a write
 * to the same (task, idx) replaces the stored one. One statement, autocommit. Writes nothing
 * (rowCount 0) when the thread has no checkpoint in that namespace.
 *
 * Parameters: $1 thread_id, $2 ns, $3 checkpoint_id, $4 task_id; parallel arrays $5 idx,
 * $6 channel, $7 data (serialized value). Each idx must appear once (the caller dedupes).
 * Indexes: checkpoint_heads_pkey (the key), checkpoint_writes_pkey (the upsert's target).
 */
export function putWritesSql(s: string): string {
  return `
INSERT INTO ${s}.checkpoint_writes (key_id, checkpoint_id, task_id, idx, channel, data)
SELECT h.key_id, $3::uuid, $4::text, w.idx, w.channel, w.data
FROM ${s}.checkpoint_heads h
CROSS JOIN unnest($5::integer[], $6::text[], $7::text[]) AS w(idx, channel, data)
WHERE h.thread_id = $1::text AND h.ns = $2::text
ON CONFLICT (key_id, checkpoint_id, task_id, idx)
DO UPDATE SET channel = EXCLUDED.channel, data = EXCLUDED.data`;
}
