// Statements of retention (prune.ts). Each per-thread statement runs inside the transaction
// that first locks the thread's head rows (lock-heads), so no put of that thread commits in
// between. Parameter $1 is the thread id unless said otherwise.

/**
 * lock-heads — locks and returns the keys and heads of one thread.
 * Index: checkpoint_heads_pkey.
 */
export function lockHeadsSql(s: string): string {
  return `SELECT key_id, ns, head_id FROM ${s}.checkpoint_heads WHERE thread_id = $1 FOR UPDATE`;
}

/**
 * delete-old-checkpoints — deletes a thread's checkpoints older than $2 (a UUIDv7 boundary)
 * except each namespace's head. Indexes: checkpoint_heads_pkey, checkpoints_pkey (key_id, id).
 */
export function deleteOldCheckpointsSql(s: string): string {
  return `
DELETE FROM ${s}.checkpoints c USING ${s}.checkpoint_heads h
WHERE h.thread_id = $1 AND c.key_id = h.key_id
  AND c.checkpoint_id < $2::uuid AND c.checkpoint_id <> h.head_id`;
}

/**
 * delete-orphan-writes — deletes a thread's pending writes whose checkpoint is gone.
 * Indexes: checkpoint_writes_pkey (key_id), checkpoints_pkey (anti-join).
 */
export function deleteOrphanWritesSql(s: string): string {
  return `
DELETE FROM ${s}.checkpoint_writes w USING ${s}.checkpoint_heads h
WHERE h.thread_id = $1 AND w.key_id = h.key_id AND NOT EXISTS (
  SELECT 1 FROM ${s}.checkpoints c WHERE c.key_id = w.key_id AND c.checkpoint_id = w.checkpoint_id)`;
}

/**
 * referenced-blobs — the (key, channel, version) every remaining checkpoint of a thread
 * reads from checkpoint_blobs. Index: checkpoints_pkey (key_id), probed per key (LATERAL …
 * OFFSET 0): statistics from a few threads would make a key look like a share of the table, and
 * a hash join scan every thread's rows.
 */
export function referencedBlobsSql(s: string): string {
  return `
SELECT DISTINCT c.key_id, v.key AS channel, v.value::bigint AS version
FROM ${s}.checkpoint_heads h
CROSS JOIN LATERAL (
  SELECT c.key_id, c.blob_versions FROM ${s}.checkpoints c WHERE c.key_id = h.key_id OFFSET 0) c
CROSS JOIN LATERAL json_each_text(c.blob_versions) v
WHERE h.thread_id = $1`;
}

/**
 * blob-links — every stored row of a thread without its data: how deltas chain.
 * Index: checkpoint_blobs_pkey (key_id), probed per key as referenced-blobs does (a review
 * measured 4 pages become 7,928 beside 20,000 threads with such statistics: a parallel scan of
 * every blob row; test/prune-statements-cost.int.test.ts).
 */
export function blobLinksSql(s: string): string {
  return `
SELECT b.key_id, b.channel, b.version, b.base_version
FROM ${s}.checkpoint_heads h CROSS JOIN LATERAL (
  SELECT b.key_id, b.channel, b.version, b.base_version FROM ${s}.checkpoint_blobs b
  WHERE b.key_id = h.key_id OFFSET 0) b
WHERE h.thread_id = $1`;
}

/**
 * blob-data — the data of some rows of one channel. Parameters: $1 key_id, $2 channel,
 * $3 versions (bigint[]). Index: checkpoint_blobs_pkey.
 */
export function blobDataSql(s: string): string {
  return `
SELECT version, base_version, data FROM ${s}.checkpoint_blobs
WHERE key_id = $1 AND channel = $2 AND version = ANY($3::bigint[])`;
}

/**
 * delete-unreferenced-blobs — deletes a thread's rows outside the keep set, given as
 * parallel arrays $2 key_id, $3 channel, $4 version (hashed).
 * Index: checkpoint_blobs_pkey (key_id).
 */
export function deleteUnreferencedBlobsSql(s: string): string {
  return `
DELETE FROM ${s}.checkpoint_blobs b USING ${s}.checkpoint_heads h
WHERE h.thread_id = $1 AND b.key_id = h.key_id AND (b.key_id, b.channel, b.version) NOT IN (
  SELECT * FROM unnest($2::bigint[], $3::text[], $4::bigint[]))`;
}

/**
 * reset-first-ids — records each namespace's oldest remaining checkpoint on its head row.
 * Index: checkpoints_pkey (first id per key).
 */
export function resetFirstIdsSql(s: string): string {
  return `
UPDATE ${s}.checkpoint_heads h SET first_id = coalesce((
  SELECT c.checkpoint_id FROM ${s}.checkpoints c
  WHERE c.key_id = h.key_id ORDER BY c.checkpoint_id LIMIT 1), h.head_id)
WHERE h.thread_id = $1`;
}

/**
 * A page of the heads retention walks: those whose oldest checkpoint is older than $1 (a
 * UUIDv7 boundary), in (first_id, thread_id, ns) order after the row ($2, $3, $4) the previous
 * page ended on, $5 at a time, each with `wanted`. A call walks the range once: a thread it
 * leaves as it is (its head is old, or it is still in use) is not read again by the next page.
 * The page is taken first, then `wanted` is worked out for its rows alone: a filter in the
 * page's own query may be planned as a join over every head, on every page.
 * Index: checkpoint_heads_first_id_idx (the row comparison's first column bounds the scan;
 * an incremental sort orders the rare ties).
 */
const oldHeads = (s: string, wanted: string) => `
WITH page AS MATERIALIZED (
  SELECT thread_id, ns, first_id, head_id FROM ${s}.checkpoint_heads
  WHERE first_id < $1::uuid AND (first_id, thread_id, ns) > ($2::uuid, $3::text, $4::text)
  ORDER BY first_id, thread_id, ns LIMIT $5)
SELECT p.thread_id, p.ns, p.first_id, ${wanted} AS wanted FROM page p
ORDER BY p.first_id, p.thread_id, p.ns`;

/** threads-with-old-history — oldHeads, wanted: a checkpoint older than $1 is not the head. */
export function threadsWithOldHistorySql(s: string): string {
  return oldHeads(s, "p.first_id <> p.head_id");
}

/**
 * idle-threads — oldHeads, wanted: every namespace's head of the thread is older than $1 (a
 * head older than the boundary implies a first checkpoint older than it). Index:
 * checkpoint_heads_pkey (the thread's other namespaces, for each row of the page).
 */
export function idleThreadsSql(s: string): string {
  return oldHeads(
    s,
    `NOT EXISTS (SELECT 1 FROM ${s}.checkpoint_heads y WHERE y.thread_id = p.thread_id AND y.head_id >= $1::uuid)`,
  );
}

/**
 * lock-idle-threads — locks the head rows of threads $1 (text[]), in key order, and returns
 * those whose every head is older than $2 (a UUIDv7 boundary), as the locked rows stand: a
 * head a put moved since the walk read it counts at its new place. The caller deletes them in
 * the same transaction. Index: checkpoint_heads_pkey.
 */
export function lockIdleThreadsSql(s: string): string {
  return `
WITH locked AS (
  SELECT thread_id, head_id FROM ${s}.checkpoint_heads WHERE thread_id = ANY($1::text[])
  ORDER BY thread_id, ns FOR UPDATE)
SELECT thread_id FROM locked GROUP BY thread_id HAVING bool_and(head_id < $2::uuid)`;
}
