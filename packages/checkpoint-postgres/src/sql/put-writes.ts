/**
 * put-writes — records a task's pending writes against a checkpoint, idempotently: a write
 * to the same (task, idx) replaces the stored one. One statement, autocommit.
 *
 * Parameters: $1 thread_id, $2 ns, $3 checkpoint_id, $4 task_id; parallel arrays $5 idx,
 * $6 channel, $7 data (serialized value). Each idx must appear once (the caller dedupes).
 * Index: checkpoint_writes_pkey (the upsert's conflict target).
 */
export function putWritesSql(s: string): string {
  return `
INSERT INTO ${s}.checkpoint_writes (thread_id, ns, checkpoint_id, task_id, idx, channel, data)
SELECT $1::text, $2::text, $3::uuid, $4::text, w.idx, w.channel, w.data
FROM unnest($5::integer[], $6::text[], $7::text[]) AS w(idx, channel, data)
ON CONFLICT (thread_id, ns, checkpoint_id, task_id, idx)
DO UPDATE SET channel = EXCLUDED.channel, data = EXCLUDED.data`;
}
