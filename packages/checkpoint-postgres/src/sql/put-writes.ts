/**
 * put-writes — records a task's pending writes against a checkpoint, idempotently: a write
 * to the same (task, idx) replaces the stored one. One statement, autocommit. Writes nothing
 * (rowCount 0) when the thread has no checkpoint in that namespace.
 *
 * Parameters: $1 thread_id, $2 ns, $3 checkpoint_id, $4 task_id; parallel arrays $5 idx,
 * $6 channel, $7 data (serialized value). Each idx must appear once (the caller dedupes).
 * Indexes: checkpoint_heads_pkey (the key), checkpoint_writes_pkey (the upsert's target).
 * `guard` (PostgresSaver.guarded; its parameters from $8) is ANDed into the condition: refused,
 * nothing is stored, as when there is no head.
 */
export function putWritesSql(s: string, guard?: string): string {
  return `
INSERT INTO ${s}.checkpoint_writes (key_id, checkpoint_id, task_id, idx, channel, data)
SELECT h.key_id, $3::uuid, $4::text, w.idx, w.channel, w.data
FROM ${s}.checkpoint_heads h
CROSS JOIN unnest($5::integer[], $6::text[], $7::text[]) AS w(idx, channel, data)
WHERE h.thread_id = $1::text AND h.ns = $2::text${
    guard === undefined
      ? ""
      : `
  AND coalesce((${guard}), false)`
  }
-- Locks the head row: a deleteThread in progress is waited for, and then no head is found, so
-- no row is left under a key nothing can reach any more.
FOR SHARE OF h
ON CONFLICT (key_id, checkpoint_id, task_id, idx)
DO UPDATE SET channel = EXCLUDED.channel, data = EXCLUDED.data`;
}

/**
 * put-writes with a caller's statement (PostgresSaver.putWritesThen): pending writes of one key's
 * head checkpoint, parallel arrays $3 checkpoint_id, $4 task_id, $5 idx, $6 channel, $7 data. A
 * write of a checkpoint that is not the head (any more) is not stored. `then` runs with
 * parameters from $18 (as with putThen; $8–$17 are unused), reading `won` (the key's key_id, one
 * row once the writes are stored), and its row comes back as json in then_row when it does.
 * Returns key_id and head_id (null: the key has no checkpoint) and then_row. `guard` (as with a
 * put, see put-checkpoint.ts) is ANDed into the writes' condition: refused, nothing is stored.
 */
export function putWritesThenSql(s: string, then: string, guard?: string): string {
  return `
WITH written AS (
  INSERT INTO ${s}.checkpoint_writes (key_id, checkpoint_id, task_id, idx, channel, data)
  SELECT h.key_id, x.checkpoint_id, x.task_id, x.idx, x.channel, x.data
  FROM ${s}.checkpoint_heads h
  CROSS JOIN unnest($3::uuid[], $4::text[], $5::integer[], $6::text[], $7::text[])
    AS x(checkpoint_id, task_id, idx, channel, data)
  WHERE h.thread_id = $1::text AND h.ns = $2::text AND h.head_id = x.checkpoint_id${guard === undefined ? "" : `\n    AND coalesce((${guard}), false)`}
  -- Locks the head row: a put moving the head concurrently waits, or, committed first, makes
  -- the row fail the check (re-read at its latest version).
  FOR SHARE OF h
  ON CONFLICT (key_id, checkpoint_id, task_id, idx) DO UPDATE SET channel = EXCLUDED.channel, data = EXCLUDED.data
  RETURNING key_id
),
head AS (
  SELECT key_id, head_id FROM ${s}.checkpoint_heads WHERE thread_id = $1::text AND ns = $2::text
),
unused AS (
  SELECT $8::text, $9::text, $10::text, $11::text, $12::text, $13::text, $14::text, $15::text, $16::text, $17::text
),
won AS (
  SELECT DISTINCT key_id FROM written
),
then_row AS (${then})
SELECT (SELECT key_id FROM head) AS key_id, (SELECT head_id FROM head) AS head_id,
  EXISTS (SELECT 1 FROM won) AS stored,
  CASE WHEN EXISTS (SELECT 1 FROM won) THEN (SELECT row_to_json(t) FROM then_row t) END AS then_row`;
}
