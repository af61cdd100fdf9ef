/**
 * compact-blob — rewrites one list delta as the full value (the periodic snapshot), so later
 * deltas chain from it. Changes no value a reader sees; a row that is already full (or was
 * replaced meanwhile) is left alone.
 *
 * Parameters: $1 key_id, $2 channel, $3 version, $4 the full serialized value.
 * Index: checkpoint_blobs_pkey.
 */
export function compactBlobSql(s: string): string {
  return `
UPDATE ${s}.checkpoint_blobs SET
  base_version = NULL, snapshot_version = NULL, chain_length = NULL, chain_bytes = NULL,
  snapshot_bytes = octet_length($4::text), data = $4::text
WHERE key_id = $1 AND channel = $2 AND version = $3 AND base_version IS NOT NULL`;
}
