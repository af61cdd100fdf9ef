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
