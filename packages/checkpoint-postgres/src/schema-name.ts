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
