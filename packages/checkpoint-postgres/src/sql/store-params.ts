/**
 * store-params — what the store's statements share: their parameters, and the index range of a
 * namespace prefix.
 */

/** A statement's parameters: each value gets its `$n` and is never part of the SQL text. */
export class StatementParams {
  readonly values: unknown[] = [];

  /** `$n::type` standing for `value`; `type` is always one of this package's own words. */
  add(value: unknown, type: string): string {
    this.values.push(value);
    return `$${this.values.length}::${type}`;
  }
}

/**
 * Namespaces that begin with `prefix`'s labels, as a range of the primary key:
 * `prefix <= namespace < upper`, where `upper` is `prefix` with U+0001 after its last label.
 * Arrays compare label by label, and "C" labels byte by byte, so a namespace in the range has
 * `prefix`'s labels and then any others; one outside it differs in a label, and a label that
 * begins like the last one ("ab" for "a") is at least "a" + U+0001, the least a label can add
 * (labels hold no NUL: Postgres text cannot). No LIKE, so `%` and `_` are labels' own
 * characters. True (no condition) for the empty prefix.
 */
export function prefixRange(column: string, prefix: readonly string[], params: StatementParams): string {
  if (prefix.length === 0) return "true";
  const upper = [...prefix.slice(0, -1), `${prefix.at(-1)}\u0001`];
  return `${column} >= ${params.add(prefix, "text[]")} AND ${column} < ${params.add(upper, "text[]")}`;
}

/**
 * How many advisory locks a store's schema has: each place (namespace, key) hashes to one. A
 * write takes the locks of its places' buckets, so a batch of any size holds at most this many
 * (the server's lock table is shared: max_locks_per_transaction, 64 by default, per connection);
 * writers of different keys in one bucket wait for each other, never in a cycle.
 */
export const LOCK_BUCKETS = 64;

/** The first key of the schema's advisory locks: the schema's own, so stores of other schemas never wait. */
function lockClass(s: string): string {
  return `hashtext('layover store ' || ${`'${s.replaceAll("'", "''")}'`})`;
}

/** A place's bucket (0 to LOCK_BUCKETS - 1). */
function bucketOf(namespace: string, key: string): string {
  return `(hashtext(array_to_string(${namespace}, chr(1)) || chr(2) || ${key}) & ${LOCK_BUCKETS - 1})`;
}

/**
 * A query taking the transaction's advisory locks of the buckets of the places (namespace, key)
 * the rows of `places` hold, in bucket order, and counting them: every write statement of the
 * store takes them before it changes anything, so two statements writing the same keys never
 * both hold some of them (a statement's deletes, upserts and vector writes lock rows in orders
 * of their own, and rows not there yet cannot be locked).
 */
export function placeLocks(s: string, places: string): string {
  return `SELECT count(*) AS n FROM (
    SELECT pg_advisory_xact_lock(${lockClass(s)}, b) FROM (
      SELECT DISTINCT ${bucketOf("namespace", "key")} AS b FROM ${places} ORDER BY b) d) l`;
}

/** The advisory lock of one place (placeLocks' lock), as an expression: a statement of one key. */
export function placeLock(s: string, namespace: string, key: string): string {
  return `pg_advisory_xact_lock(${lockClass(s)}, ${bucketOf(namespace, key)})`;
}

/** The advisory lock of one bucket of schema `s` (quoted), as an expression. */
export function bucketLock(s: string, bucket: number): string {
  return `pg_advisory_xact_lock(${lockClass(s)}, ${Math.trunc(bucket)})`;
}

/** The namespace of a statement's JSON entry `e` (its first element), its labels in order. */
export const ENTRY_NAMESPACE =
  "ARRAY(SELECT label FROM jsonb_array_elements_text(e -> 0) WITH ORDINALITY AS l(label, n) ORDER BY l.n)";
