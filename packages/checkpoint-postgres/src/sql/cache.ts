/**
 * Statements of the node cache (postgres-cache.ts), in schema `s` (quoted). Every call is one
 * autocommit statement, whatever the number of keys: the keys travel as parallel text arrays
 * (one parameter each), so the statement's text — and its prepared plan — never changes.
 *
 * Time: `now()`, the server's clock at the statement's start (each statement is its own
 * transaction), for both the expiry a set writes and the one a get or a prune compares with.
 * Workers whose clocks disagree still agree on which entries have expired, and every row of a
 * statement is judged at the same instant. An entry is gone from the instant `expires_at` is
 * reached (`expires_at <= now()`), as InMemoryCache's.
 */

/**
 * cache-get — the live entries of the keys $1 (namespaces, as JSON text) and $2 (keys), taken
 * pairwise; a key asked twice comes back twice, a missing or expired one not at all.
 * Index: cache_entries_pkey, one probe per key asked (LATERAL … OFFSET 0): a join the planner
 * could turn into a hash join would read every entry of the table to answer a few keys.
 */
export function cacheGetSql(s: string): string {
  return `
SELECT c.ns, c.key, c.value
FROM unnest($1::text[], $2::text[]) AS k(ns, key)
CROSS JOIN LATERAL (
  SELECT e.ns, e.key, e.value FROM ${s}.cache_entries e
  WHERE e.ns = k.ns AND e.key = k.key AND (e.expires_at IS NULL OR e.expires_at > now())
  OFFSET 0) c`;
}

/**
 * Beyond this many seconds (about 317 years) a ttl is kept as this: `now() + ttl` must stay
 * inside timestamptz's range, and no cache entry outlives that anyway.
 */
export const MAX_TTL_SECONDS = 10_000_000_000;

/**
 * cache-set — upserts the entries $1 (namespaces, as JSON text), $2 (keys), $3 (values, the
 * serializer's text), $4 (ttl in seconds, float8; NULL: until cleared), taken pairwise. The
 * caller sends each (namespace, key) once (ON CONFLICT cannot update a row twice in one
 * statement) and in code point order: unnest returns the rows in the arrays' order, so two sets
 * of overlapping keys lock their rows in the same order and never deadlock.
 * Index: cache_entries_pkey (the conflict target).
 */
export function cacheSetSql(s: string): string {
  return `
INSERT INTO ${s}.cache_entries AS t (ns, key, value, expires_at)
SELECT e.ns, e.key, e.value, now() + least(e.ttl, ${MAX_TTL_SECONDS}) * interval '1 second'
FROM unnest($1::text[], $2::text[], $3::text[], $4::float8[]) AS e(ns, key, value, ttl)
ON CONFLICT (ns, key) DO UPDATE SET value = EXCLUDED.value, expires_at = EXCLUDED.expires_at`;
}

/**
 * cache-clear — deletes every entry of the namespaces $1 (JSON text), exactly those: a namespace
 * below one of them is another text. Index: cache_entries_pkey (its leading column).
 */
export function cacheClearSql(s: string): string {
  return `DELETE FROM ${s}.cache_entries WHERE ns = ANY($1::text[])`;
}

/**
 * cache-clear-all — deletes every entry. DELETE, not TRUNCATE: TRUNCATE's exclusive lock would
 * make every worker's get and set wait behind it (and it behind any of theirs still running).
 * Vacuum reclaims the rows.
 */
export function cacheClearAllSql(s: string): string {
  return `DELETE FROM ${s}.cache_entries`;
}

/**
 * cache-prune — deletes at most $1 expired entries, the longest expired first, and returns
 * nothing (the row count is the answer). Rows another transaction holds (a set replacing an
 * expired entry, a concurrent prune) are skipped, not waited for: the next prune takes them.
 * Indexes: cache_entries_expires_at_idx (the expired entries, in order, stopping at the limit;
 * entries without expiry are not in it), then the rows by ctid (a TID scan).
 */
export function cachePruneSql(s: string): string {
  return `
DELETE FROM ${s}.cache_entries
WHERE ctid = ANY(ARRAY(
  SELECT ctid FROM ${s}.cache_entries
  WHERE expires_at <= now()
  ORDER BY expires_at
  LIMIT $1::bigint
  FOR UPDATE SKIP LOCKED))`;
}
