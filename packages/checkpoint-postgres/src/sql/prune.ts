// Statements of retention (prune.ts). Each runs inside the per-thread transaction that
// first locks the thread's head rows (lock-thread-heads), so no put of that thread commits
// in between.

/**
 * lock-thread-heads — locks and returns the heads of one thread.
 * Parameter: $1 thread_id. Index: checkpoint_heads_pkey.
 */
export function lockHeadsSql(s: string): string {
  return `SELECT ns, head_id FROM ${s}.checkpoint_heads WHERE thread_id = $1 FOR UPDATE`;
}

/**
 * delete-old-checkpoints — deletes a thread's checkpoints older than $2 except each
 * namespace's head. Parameters: $1 thread_id, $2 boundary checkpoint id (UUIDv7 of a time).
 * Index: checkpoints_pkey (prefix thread_id).
 */
export function deleteOldCheckpointsSql(s: string): string {
  return `
DELETE FROM ${s}.checkpoints c USING ${s}.checkpoint_heads h
WHERE c.thread_id = $1 AND h.thread_id = $1 AND h.ns = c.ns
  AND c.checkpoint_id < $2::uuid AND c.checkpoint_id <> h.head_id`;
}

/**
 * delete-orphan-writes — deletes a thread's pending writes whose checkpoint is gone.
 * Parameter: $1 thread_id. Indexes: checkpoint_writes_pkey, checkpoints_pkey (anti-join).
 */
export function deleteOrphanWritesSql(s: string): string {
  return `
DELETE FROM ${s}.checkpoint_writes w
WHERE w.thread_id = $1 AND NOT EXISTS (
  SELECT 1 FROM ${s}.checkpoints c
  WHERE c.thread_id = w.thread_id AND c.ns = w.ns AND c.checkpoint_id = w.checkpoint_id)`;
}

/**
 * referenced-blobs — the (ns, channel, version) every remaining checkpoint of a thread
 * reads. Parameter: $1 thread_id. Index: checkpoints_pkey.
 */
export function referencedBlobsSql(s: string): string {
  return `
SELECT DISTINCT c.ns, v.key AS channel, v.value::bigint AS version
FROM ${s}.checkpoints c CROSS JOIN LATERAL json_each_text(c.blob_versions) v
WHERE c.thread_id = $1`;
}

/**
 * blob-links — every stored row of a thread without its data: how deltas chain.
 * Parameter: $1 thread_id. Index: checkpoint_blobs_pkey.
 */
export function blobLinksSql(s: string): string {
  return `SELECT ns, channel, version, base_version FROM ${s}.checkpoint_blobs WHERE thread_id = $1`;
}

/**
 * blob-data — the data of some rows of one channel. Parameters: $1 thread_id, $2 ns,
 * $3 channel, $4 versions (bigint[]). Index: checkpoint_blobs_pkey.
 */
export function blobDataSql(s: string): string {
  return `
SELECT version, base_version, data FROM ${s}.checkpoint_blobs
WHERE thread_id = $1 AND ns = $2 AND channel = $3 AND version = ANY($4::bigint[])`;
}

/**
 * delete-unreferenced-blobs — deletes a thread's rows outside the keep set.
 * Parameters: $1 thread_id, keep set as parallel arrays $2 ns, $3 channel, $4 version.
 * Index: checkpoint_blobs_pkey (prefix thread_id); the keep set is hashed.
 */
export function deleteUnreferencedBlobsSql(s: string): string {
  return `
DELETE FROM ${s}.checkpoint_blobs b
WHERE b.thread_id = $1 AND (b.ns, b.channel, b.version) NOT IN (
  SELECT * FROM unnest($2::text[], $3::text[], $4::bigint[]))`;
}

/**
 * reset-first-ids — records each namespace's oldest remaining checkpoint on its head row.
 * Parameter: $1 thread_id. Index: checkpoints_pkey (first id per namespace).
 */
export function resetFirstIdsSql(s: string): string {
  return `
UPDATE ${s}.checkpoint_heads h SET first_id = coalesce((
  SELECT c.checkpoint_id FROM ${s}.checkpoints c
  WHERE c.thread_id = h.thread_id AND c.ns = h.ns ORDER BY c.checkpoint_id LIMIT 1), h.head_id)
WHERE h.thread_id = $1`;
}

/**
 * threads-with-old-history — a batch of threads with a checkpoint older than $1 that is not
 * a head, in thread order after $2. Parameters: $1 boundary id, $2 last thread of the
 * previous batch ('' to start), $3 batch size. Index: checkpoint_heads_first_id_idx.
 */
export function threadsWithOldHistorySql(s: string): string {
  return `
SELECT DISTINCT thread_id FROM ${s}.checkpoint_heads
WHERE first_id < $1::uuid AND first_id <> head_id AND thread_id > $2
ORDER BY thread_id LIMIT $3`;
}

/**
 * idle-threads — a batch of threads whose every namespace's head is older than $1.
 * Parameters: $1 boundary id, $2 batch size. Indexes: checkpoint_heads_first_id_idx (a head
 * older than the boundary implies a first checkpoint older than it), checkpoint_heads_pkey
 * (the thread's other namespaces).
 */
export function idleThreadsSql(s: string): string {
  return `
SELECT DISTINCT h.thread_id FROM ${s}.checkpoint_heads h
WHERE h.first_id < $1::uuid AND NOT EXISTS (
  SELECT 1 FROM ${s}.checkpoint_heads y WHERE y.thread_id = h.thread_id AND y.head_id >= $1::uuid)
ORDER BY h.thread_id LIMIT $2`;
}
