/**
 * head-lookups — what a put that lost its compare-and-set looks up afterwards.
 *
 * current-head: the head of ($1 thread_id, $2 ns), for the conflict error.
 * checkpoint-exists: whether checkpoint $3 is stored on ($1, $2) — a retried put whose first
 * attempt committed before its connection failed finds itself here.
 * Indexes: checkpoint_heads_pkey, then checkpoints_pkey.
 */
export function currentHeadSql(s: string): string {
  return `SELECT head_id FROM ${s}.checkpoint_heads WHERE thread_id = $1 AND ns = $2`;
}

export function checkpointExistsSql(s: string): string {
  return `
SELECT 1 FROM ${s}.checkpoint_heads h
JOIN ${s}.checkpoints c ON c.key_id = h.key_id AND c.checkpoint_id = $3::uuid
WHERE h.thread_id = $1 AND h.ns = $2`;
}
