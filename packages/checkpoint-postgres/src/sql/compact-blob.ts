/**
 * compact-blob — rewrites one list delta as the full value (the periodic snapshot), so later
 * deltas chain from it. Changes no value a reader sees; a row that is already full (or was
 * replaced meanwhile) is left alone.
 *
 * Parameters: $1 thread_id, $2 ns, $3 channel, $4 version, $5 the full serialized value.
 * Index: checkpoint_blobs_pkey.
 */
export function compactBlobSql(s: string): string {
  return `
UPDATE ${s}.checkpoint_blobs SET
  base_version = NULL, snapshot_version = NULL, chain_length = NULL, chain_bytes = NULL,
  snapshot_bytes = octet_length($5::text), data = $5::text
WHERE thread_id = $1 AND ns = $2 AND channel = $3 AND version = $4 AND base_version IS NOT NULL`;
}
