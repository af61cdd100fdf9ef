/**
 * put-checkpoint — commits a chain of checkpoints (usually one) as a single statement: one round
 * trip, one commit, no client ever left idle in a transaction.
 *
 * 1. Compare-and-set on the head: `UPDATE checkpoint_heads … WHERE head_id = $5` (or, when
 *    $5 is null, `INSERT … ON CONFLICT DO NOTHING` for a new key), moving it to the chain's last
 *    checkpoint. A concurrent put from the same head waits on the row lock, re-checks, matches
 *    nothing, and writes nothing.
 * 2. Only when step 1 won: the checkpoint rows and the new channel values (full rows, or list
 *    deltas carrying only the appended items on top of their base row), under the key's
 *    `key_id`.
 * 3. A delta's base is a stored row or a row the same statement writes (a chain's earlier
 *    checkpoint). One whose base row is missing or has another length than the caller saw
 *    makes the whole statement write nothing and report `deltas_ok = false`: the caller
 *    resends full values.
 *
 * Parameters: $1 thread_id, $2 ns, $5 expected head (null: the key must have none); the chain,
 * oldest first, as parallel arrays: $3 checkpoint_id, $4 parent_id, $6 body, $7 blob_versions
 * (json), $8 metadata, $9 metadata_filter (jsonb); blob rows of every checkpoint as parallel
 * arrays: $10 channel, $11 version, $12 base_version (null: full value), $13 base_length, $14
 * items (full: list length or null; delta: items appended), $15 data; snapshot policy: $16 min
 * snapshot bytes, $17 max chain length.
 *
 * Returns one row: deltas_ok, key_id (null when the compare-and-set lost), due (json
 * [[channel, version]…]: deltas whose chain outgrew their snapshot — rewrite them as full
 * values with compact-blob).
 *
 * `then` (PostgresSaver.putThen): a statement run in the same statement, so in the same
 * transaction, only when the compare-and-set won, with parameters from $18 on; its row comes
 * back as json in then_row. Pending writes given with it take the parameters after then's. A SELECT `then` runs only when the final SELECT reads it, which it
 * does only when `won` has its row; a data-modifying one must itself read `won` (it runs anyway).
 *
 * `guard` (PostgresSaver.guarded): a caller's boolean expression, its parameters after every
 * other (then's and the writes'); the head moves only when it holds, so a put it refuses writes
 * nothing and reports key_id null, as one that lost the compare-and-set. Evaluated once, in the
 * CTE `fence`, which `moved` and `created` read as a one-time filter: before the head row is
 * looked at or locked (a guard that locks a row of its own takes it before the head's).
 *
 * Indexes: checkpoint_heads_pkey (the head row), checkpoint_blobs_pkey (base rows, upsert),
 * checkpoints_pkey (insert; a duplicate id raises 23505).
 */
/**
 * `then`'s row, read only when the put won: a SELECT CTE runs only when read, and nothing
 * else makes a function it calls wait for `won` (the planner may call it first, once, whatever
 * `won` holds).
 */
const THEN_ROW =
  "CASE WHEN EXISTS (SELECT 1 FROM won) THEN (SELECT row_to_json(t) FROM then_row t) END AS then_row";

/**
 * A blob row as stored, from the incoming row `i` and its base `b` (a stored row, or a row of
 * this statement: both have the columns read here).
 */
const blobRow = `i.channel, i.version, i.base_version, i.data,
    CASE WHEN i.base_version IS NULL THEN NULL
         WHEN b.base_version IS NULL THEN b.version ELSE b.snapshot_version END AS snapshot_version,
    CASE WHEN i.base_version IS NULL THEN i.items ELSE b.item_count + i.items END AS item_count,
    CASE WHEN i.base_version IS NULL THEN NULL ELSE coalesce(b.chain_length, 0) + 1 END AS chain_length,
    CASE WHEN i.base_version IS NULL THEN NULL
         ELSE coalesce(b.chain_bytes, 0) + octet_length(i.data) END AS chain_bytes,
    CASE WHEN i.base_version IS NOT NULL THEN b.snapshot_bytes
         WHEN i.items IS NOT NULL THEN octet_length(i.data) END AS snapshot_bytes,
    (i.base_version IS NOT NULL AND b.item_count IS DISTINCT FROM i.base_length) AS broken`;

/**
 * Pending writes stored with the chain (PostgresSaver.putThen's `writes`), when the put wins:
 * parallel arrays from `$n`: checkpoint_id, task_id, idx, channel, data.
 */
function writtenSql(s: string, n: number): string {
  return `,
written AS (
  INSERT INTO ${s}.checkpoint_writes (key_id, checkpoint_id, task_id, idx, channel, data)
  SELECT w.key_id, x.checkpoint_id, x.task_id, x.idx, x.channel, x.data
  FROM won w
  CROSS JOIN unnest($${n}::uuid[], $${n + 1}::text[], $${n + 2}::integer[], $${n + 3}::text[], $${n + 4}::text[])
    AS x(checkpoint_id, task_id, idx, channel, data)
  ON CONFLICT (key_id, checkpoint_id, task_id, idx) DO UPDATE SET channel = EXCLUDED.channel, data = EXCLUDED.data
)`;
}

/** What a put statement carries besides the chain: see the header. */
export interface PutSqlParts {
  /** then's SELECT (putThen). */
  thenSql?: string | undefined;
  /** The first parameter of the pending writes stored with the chain, when there are some. */
  writesFrom?: number | undefined;
  /** The guard's expression, its parameters numbered already (put-guard.ts). */
  guard?: string | undefined;
}

/**
 * The chain's blob rows, each with its base (steps 2 and 3 of the header), and the verdict on
 * its deltas.
 */
function blobRowsSql(s: string): string {
  return `
WITH RECURSIVE known AS (
  SELECT key_id FROM ${s}.checkpoint_heads WHERE thread_id = $1::text AND ns = $2::text
),
incoming AS (
  SELECT * FROM unnest($10::text[], $11::bigint[], $12::bigint[], $13::integer[], $14::integer[], $15::text[])
    AS u(channel, version, base_version, base_length, items, data)
),
blob_rows AS (
  -- A delta's base is a stored row, or a row this statement writes (a chain's earlier
  -- checkpoint): those follow their base, recursively.
  SELECT ${blobRow}
  FROM incoming i
  LEFT JOIN ${s}.checkpoint_blobs b
    ON b.key_id = (SELECT key_id FROM known) AND b.channel = i.channel AND b.version = i.base_version
  WHERE NOT EXISTS (SELECT 1 FROM incoming j WHERE j.channel = i.channel AND j.version = i.base_version)
  UNION ALL
  SELECT ${blobRow}
  FROM blob_rows b
  JOIN incoming i ON i.channel = b.channel AND i.base_version = b.version
),
verdict AS (
  SELECT NOT EXISTS (SELECT 1 FROM blob_rows WHERE broken) AS deltas_ok
),`;
}

/**
 * The compare-and-set on the head (step 1 of the header), behind the guard when there is one:
 * `won` holds the key when it won.
 */
function headSql(s: string, guard: string | undefined): string {
  const fenced = guard === undefined ? "" : " AND (SELECT ok FROM fence)";
  return `${guard === undefined ? "" : `\nfence AS (\n  SELECT coalesce((${guard}), false) AS ok\n),`}
moved AS (
  UPDATE ${s}.checkpoint_heads SET head_id = ($3::uuid[])[cardinality($3::uuid[])]
  WHERE thread_id = $1::text AND ns = $2::text AND head_id = $5::uuid AND (SELECT deltas_ok FROM verdict)${fenced}
  RETURNING key_id
),
created AS (
  INSERT INTO ${s}.checkpoint_heads (thread_id, ns, head_id, first_id)
  SELECT $1::text, $2::text, ($3::uuid[])[cardinality($3::uuid[])], ($3::uuid[])[1] WHERE $5::uuid IS NULL AND (SELECT deltas_ok FROM verdict)${fenced}
  ON CONFLICT (thread_id, ns) DO NOTHING
  RETURNING key_id
),
won AS (
  SELECT key_id FROM moved UNION ALL SELECT key_id FROM created
),`;
}

/** The checkpoint rows and blob rows, written under the key only when the put won (step 2 of the header). */
function savedSql(s: string): string {
  return `
saved AS (
  INSERT INTO ${s}.checkpoints
    (key_id, checkpoint_id, parent_id, body, blob_versions, metadata, metadata_filter)
  SELECT w.key_id, c.id, c.parent_id, c.body, c.blob_versions, c.metadata, c.metadata_filter
  FROM won w
  CROSS JOIN unnest($3::uuid[], $4::uuid[], $6::text[], $7::json[], $8::text[], $9::jsonb[])
    AS c(id, parent_id, body, blob_versions, metadata, metadata_filter)
),
stored AS (
  INSERT INTO ${s}.checkpoint_blobs (key_id, channel, version, base_version, snapshot_version,
    item_count, chain_length, chain_bytes, snapshot_bytes, data)
  SELECT w.key_id, r.channel, r.version, r.base_version, r.snapshot_version,
    r.item_count, r.chain_length, r.chain_bytes, r.snapshot_bytes, r.data
  FROM blob_rows r CROSS JOIN won w
  ON CONFLICT (key_id, channel, version) DO UPDATE SET
    base_version = EXCLUDED.base_version, snapshot_version = EXCLUDED.snapshot_version,
    item_count = EXCLUDED.item_count, chain_length = EXCLUDED.chain_length,
    chain_bytes = EXCLUDED.chain_bytes, snapshot_bytes = EXCLUDED.snapshot_bytes, data = EXCLUDED.data
  RETURNING channel, version, base_version, chain_length, chain_bytes, snapshot_bytes
)`;
}

export function putCheckpointSql(s: string, { thenSql: then, writesFrom, guard }: PutSqlParts = {}): string {
  return `${blobRowsSql(s)}${headSql(s, guard)}${savedSql(s)}${
    then === undefined
      ? ""
      : `,
then_row AS (${then})`
  }${writesFrom === undefined ? "" : writtenSql(s, writesFrom)}
SELECT
  (SELECT deltas_ok FROM verdict) AS deltas_ok,
  (SELECT key_id FROM won) AS key_id,
  coalesce((
    SELECT json_agg(json_build_array(channel, version)) FROM stored
    WHERE base_version IS NOT NULL
      AND (chain_bytes >= greatest(snapshot_bytes, $16::bigint) OR chain_length >= $17::integer)
  ), '[]'::json) AS due${then === undefined ? "" : `,\n  ${THEN_ROW}`}`;
}
