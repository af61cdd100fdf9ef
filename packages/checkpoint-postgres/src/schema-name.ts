import { createHash } from "node:crypto";
import { PostgresSaverError } from "./errors.ts";

/** The schema the saver uses when none is given. */
export const DEFAULT_SCHEMA = "layover";

const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_$]{0,62}$/;

/**
 * The schema name, quoted for SQL. Names are limited to letters, digits, `_` and `$` (at most
 * 63 characters) so they need no escaping and read the same in every tool.
 */
export function quoteSchema(schema: string): string {
  if (!IDENTIFIER.test(schema)) {
    throw new PostgresSaverError(
      "INVALID_SAVER_INPUT",
      `Invalid schema name ${JSON.stringify(schema)}: use letters, digits, "_" or "$" (starting with a letter or "_"), at most 63 characters.`,
    );
  }
  return `"${schema}"`;
}

/**
 * The name of a prepared statement `name` of schema `schema`. Postgres keeps 63 characters of a
 * statement name, and a schema name alone may use all of them: the schema is hashed so the name
 * stays short and statements of two schemas sharing a pool never collide.
 */
export function statementName(name: string, schema: string): string {
  return `layover_${name}_${createHash("sha1").update(schema).digest("hex").slice(0, 12)}`;
}

const CALLER_NAME = /^[a-z_]{1,30}$/;

/**
 * A name a caller gives its SQL (putThen, getTupleAlong), checked before anything is sent:
 * 1–30 lower-case letters or underscores; one name must always come with the same SQL text.
 */
export function checkCallerName(what: string, name: string, knownSql: string | undefined, sql: string): void {
  if (!CALLER_NAME.test(name)) {
    throw new PostgresSaverError(
      "INVALID_SAVER_INPUT",
      `${what}: the name ${JSON.stringify(name)} must be 1–30 lower-case letters or underscores.`,
    );
  }
  if (knownSql !== undefined && knownSql !== sql) {
    throw new PostgresSaverError(
      "INVALID_SAVER_INPUT",
      `${what}: the name ${JSON.stringify(name)} is already used for other SQL; give each SQL text its own name.`,
    );
  }
}
