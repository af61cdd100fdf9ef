/**
 * read-checkpoints — reads checkpoints with everything needed to rebuild them, in one
 * statement returning one row of three json arrays:
 *   checkpoints [[id, parent_id, body, metadata]…] newest first
 *   blobs       [[channel, version, base_version, data]…] the rows their blob_versions name,
 *               plus, for list deltas, the chain back to the snapshot they start from
 *   writes      [[checkpoint_id, task_id, idx, channel, data]…]
 * Three selections share the tail:
 *   head   ($1 thread_id, $2 ns)                  checkpoint_heads_pkey, then checkpoints_pkey
 *   by id  ($1, $2, $3 checkpoint_id)             checkpoints_pkey
 *   page   ($1, $2, $3 before | null, $4 metadata filter jsonb | null, $5 limit)
 *          checkpoints_pkey scanned backward (newest first, `before` as an index bound);
 *          the filter is `metadata_filter @> $4` (checkpoints_metadata_filter_idx can serve
 *          it) plus an exact per-key comparison.
 * Blob rows: checkpoint_blobs_pkey (exact version, then a version range for delta chains).
 * Writes: checkpoint_writes_pkey (prefix thread_id, ns, checkpoint_id).
 */
const COLUMNS = "checkpoint_id, parent_id, body, blob_versions, metadata";

function tail(s: string): string {
  return `,
wanted AS (
  SELECT DISTINCT v.key AS channel, v.value::bigint AS version
  FROM picked p CROSS JOIN LATERAL json_each_text(p.blob_versions) AS v
),
tips AS (
  SELECT b.channel, b.version, coalesce(b.snapshot_version, b.version) AS low
  FROM wanted w JOIN ${s}.checkpoint_blobs b
    ON b.thread_id = $1 AND b.ns = $2 AND b.channel = w.channel AND b.version = w.version
),
chain AS (
  SELECT DISTINCT ON (b.channel, b.version) b.channel, b.version, b.base_version, b.data
  FROM tips t JOIN ${s}.checkpoint_blobs b
    ON b.thread_id = $1 AND b.ns = $2 AND b.channel = t.channel AND b.version BETWEEN t.low AND t.version
  ORDER BY b.channel, b.version
)
SELECT
  (SELECT json_agg(json_build_array(p.checkpoint_id, p.parent_id, p.body, p.metadata)
     ORDER BY p.checkpoint_id DESC) FROM picked p) AS checkpoints,
  (SELECT json_agg(json_build_array(c.channel, c.version, c.base_version, c.data)) FROM chain c) AS blobs,
  (SELECT json_agg(json_build_array(w.checkpoint_id, w.task_id, w.idx, w.channel, w.data)
     ORDER BY w.checkpoint_id, w.task_id, w.idx)
   FROM ${s}.checkpoint_writes w
   WHERE w.thread_id = $1 AND w.ns = $2 AND w.checkpoint_id IN (SELECT checkpoint_id FROM picked)) AS writes`;
}

/** The head checkpoint of ($1 thread_id, $2 ns). */
export function readHeadSql(s: string): string {
  return `
WITH picked AS (
  SELECT ${COLUMNS} FROM ${s}.checkpoints
  WHERE thread_id = $1 AND ns = $2
    AND checkpoint_id = (SELECT head_id FROM ${s}.checkpoint_heads WHERE thread_id = $1 AND ns = $2)
)${tail(s)}`;
}

/** Checkpoint $3 of ($1 thread_id, $2 ns). */
export function readByIdSql(s: string): string {
  return `
WITH picked AS (
  SELECT ${COLUMNS} FROM ${s}.checkpoints
  WHERE thread_id = $1 AND ns = $2 AND checkpoint_id = $3::uuid
)${tail(s)}`;
}

/** The `pickPageSql` selection alone: what `list` pages through (also used by EXPLAIN tests). */
export function pickPageSql(s: string): string {
  return `
  SELECT ${COLUMNS} FROM ${s}.checkpoints c
  WHERE c.thread_id = $1 AND c.ns = $2
    AND ($3::uuid IS NULL OR c.checkpoint_id < $3::uuid)
    AND ($4::jsonb IS NULL OR (c.metadata_filter @> $4::jsonb AND NOT EXISTS (
      SELECT 1 FROM jsonb_each($4::jsonb) f WHERE c.metadata_filter -> f.key IS DISTINCT FROM f.value)))
  ORDER BY c.checkpoint_id DESC
  LIMIT $5`;
}

/** A page of ($1 thread_id, $2 ns) history, newest first: older than $3, matching $4, at most $5. */
export function readPageSql(s: string): string {
  return `
WITH picked AS (${pickPageSql(s)}
)${tail(s)}`;
}
