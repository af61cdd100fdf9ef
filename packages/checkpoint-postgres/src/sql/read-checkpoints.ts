/**
 * read-checkpoints — reads checkpoints with everything needed to rebuild them, in one
 * statement returning one row of three json arrays:
 *   checkpoints [[id, parent_id, body, metadata]…] newest first
 *   blobs       [[channel, version, base_version, data]…] the rows their blob_versions name,
 *               plus, for list deltas, the chain back to the snapshot they start from
 *   writes      [[checkpoint_id, task_id, idx, channel, data]…]
 * The key (thread, ns) is resolved once through checkpoint_heads_pkey. Three selections
 * share the blob CTEs:
 *   heads  ($1 [[thread_id, ns]…] json)            checkpoints_pkey at each head's id; one row
 *          per key, as several callers' head reads are batched into one statement
 *   by id  ($1, $2, $3 checkpoint_id)             checkpoints_pkey
 *   page   ($1, $2, $3 before | null, $4 metadata filter jsonb | null, $5 limit)
 *          checkpoints_pkey scanned backward (newest first, `before` as an index bound);
 *          the filter (`metadata_filter @> $4` plus an exact per-key comparison) is checked
 *          on the thread's rows only: history is always per thread.
 * Blob rows: checkpoint_blobs_pkey (exact version, then a version range for delta chains),
 * probed per wanted row (LATERAL … OFFSET 0 keeps the planner from hashing the whole table
 * on its default guess of 100 rows per json_each_text).
 * Writes: checkpoint_writes_pkey (prefix key_id, checkpoint_id).
 */
const COLUMNS = "c.key_id, c.checkpoint_id, c.parent_id, c.body, c.blob_versions, c.metadata";

function keyOf(s: string): string {
  return `(SELECT key_id FROM ${s}.checkpoint_heads WHERE thread_id = $1 AND ns = $2)`;
}

/**
 * The blob rows the picked checkpoints name, with their delta chains (`chain`, per key). Shared
 * by every read: `picked` must carry key_id and blob_versions.
 */
function blobCtes(s: string): string {
  return `,
wanted AS (
  SELECT DISTINCT p.key_id, v.key AS channel, v.value::bigint AS version
  FROM picked p CROSS JOIN LATERAL json_each_text(p.blob_versions) AS v
),
tips AS (
  SELECT b.key_id, b.channel, b.version, coalesce(b.snapshot_version, b.version) AS low
  FROM wanted w CROSS JOIN LATERAL (
    SELECT * FROM ${s}.checkpoint_blobs b
    WHERE b.key_id = w.key_id AND b.channel = w.channel AND b.version = w.version OFFSET 0) b
),
chain AS (
  SELECT DISTINCT ON (b.key_id, b.channel, b.version) b.key_id, b.channel, b.version, b.base_version, b.data
  FROM tips t CROSS JOIN LATERAL (
    SELECT * FROM ${s}.checkpoint_blobs b
    WHERE b.key_id = t.key_id AND b.channel = t.channel AND b.version BETWEEN t.low AND t.version OFFSET 0) b
  ORDER BY b.key_id, b.channel, b.version
)`;
}

const WRITE_ORDER = "ORDER BY w.checkpoint_id, w.task_id, w.idx";

/** One key's picked checkpoints as one row of three json arrays. */
function tail(s: string): string {
  return `${blobCtes(s)}
SELECT
  (SELECT json_agg(json_build_array(p.checkpoint_id, p.parent_id, p.body, p.metadata)
     ORDER BY p.checkpoint_id DESC) FROM picked p) AS checkpoints,
  (SELECT json_agg(json_build_array(c.channel, c.version, c.base_version, c.data)) FROM chain c) AS blobs,
  (SELECT json_agg(json_build_array(w.checkpoint_id, w.task_id, w.idx, w.channel, w.data) ${WRITE_ORDER})
   FROM picked p JOIN ${s}.checkpoint_writes w
     ON w.key_id = p.key_id AND w.checkpoint_id = p.checkpoint_id) AS writes`;
}

/**
 * The head checkpoints of several keys ($1: a json array of [thread_id, ns] pairs), as one row
 * of three json arrays like the other reads', each element led by its key_id (checkpoints also
 * by thread_id and ns): the caller splits them per key. Each key is probed through
 * checkpoint_heads_pkey (LATERAL … OFFSET 0: never a hash join over the whole heads table,
 * whatever the planner guesses of the batch's size); each array is computed once per batch.
 *
 * How the keys arrive keeps the plan cheap and stable: not as array parameters, whose length
 * the planner reads from each call's values (it would plan the statement anew on every call,
 * 5–9 ms here), nor as a json recordset, which it guesses at 100 rows — with 100 channels
 * guessed per checkpoint that costs past `jit_above_cost`, and every call would JIT-compile
 * (~30 ms). An array built from the json in a sub-select is guessed at 10, for every call: one
 * plan per connection, below the JIT threshold.
 */
export function readHeadsSql(s: string): string {
  return `
WITH picked AS (
  SELECT h.thread_id, h.ns, ${COLUMNS}
  FROM unnest((SELECT array_agg(k) FROM json_array_elements($1::json) k)) AS a(k)
  CROSS JOIN LATERAL (
    SELECT * FROM ${s}.checkpoint_heads h WHERE h.thread_id = a.k->>0 AND h.ns = a.k->>1 OFFSET 0) h
  JOIN ${s}.checkpoints c ON c.key_id = h.key_id AND c.checkpoint_id = h.head_id
)${blobCtes(s)}
SELECT
  (SELECT json_agg(json_build_array(p.key_id, p.thread_id, p.ns, p.checkpoint_id, p.parent_id, p.body, p.metadata))
     FROM picked p) AS checkpoints,
  (SELECT json_agg(json_build_array(c.key_id, c.channel, c.version, c.base_version, c.data)) FROM chain c) AS blobs,
  (SELECT json_agg(json_build_array(w.key_id, w.checkpoint_id, w.task_id, w.idx, w.channel, w.data) ${WRITE_ORDER})
   FROM picked p CROSS JOIN LATERAL (
     SELECT * FROM ${s}.checkpoint_writes w
     WHERE w.key_id = p.key_id AND w.checkpoint_id = p.checkpoint_id OFFSET 0) w) AS writes`;
}

/** Checkpoint $3 of ($1 thread_id, $2 ns). */
export function readByIdSql(s: string): string {
  return `
WITH picked AS (
  SELECT ${COLUMNS} FROM ${s}.checkpoints c
  WHERE c.key_id = ${keyOf(s)} AND c.checkpoint_id = $3::uuid
)${tail(s)}`;
}

/** The selection `readPageSql` pages through (also used by EXPLAIN tests). */
export function pickPageSql(s: string): string {
  return `
  SELECT ${COLUMNS} FROM ${s}.checkpoints c
  WHERE c.key_id = ${keyOf(s)}
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
