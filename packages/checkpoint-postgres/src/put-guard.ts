// A caller's condition on its commits (PostgresSaver.guarded): a put, putMany, putThen,
// putWritesThen or putWrites stores only while it holds, in the same statement as its write.
import { createHash } from "node:crypto";
import { PostgresSaverError } from "./errors.ts";

/**
 * A condition every commit through a guarded saver must meet, checked in the commit's own
 * statement (no round trip of its own). A commit it refuses stores nothing and fails as one that
 * lost the compare-and-set: CheckpointConflictError.
 */
export interface PutGuard {
  /** Names the SQL text (lower-case letters and underscores), so each statement is prepared once per connection. */
  name: string;
  /**
   * A boolean SQL expression, e.g. `EXISTS (SELECT 1 FROM app.leases WHERE id = $1 AND holder = $2)`;
   * null counts as false. Its parameters are its own `values`, written $1…$n: the saver numbers
   * them after the statement's own (so write no `$` followed by digits for anything else, in a
   * string literal say: pass such text as a value). It is evaluated once per statement, before
   * the head row is read or locked: a row it locks (`FOR UPDATE`, so that whatever changes that
   * row waits for the commit, or the commit sees the change) is locked before the head's.
   */
  sql: string;
  values: readonly unknown[];
}

const PARAMETER = /\$(\d+)/g;

/** The guard's expression with its parameters numbered from `from`; refuses one it has no value for. */
export function numberedGuard(guard: PutGuard, from: number): string {
  return guard.sql.replace(PARAMETER, (_match, digits: string) => {
    const n = Number(digits);
    if (n < 1 || n > guard.values.length) {
      throw new PostgresSaverError(
        "INVALID_SAVER_INPUT",
        `guarded: "${guard.name}" refers to $${digits}, and has ${guard.values.length} values ($1…$${guard.values.length}).`,
      );
    }
    return `$${from + n - 1}`;
  });
}

/** Postgres keeps 63 characters of a statement name; statementName adds 21. */
const MAX_NAME = 42;

/** A statement's name from its parts, cut short with a hash of the whole when too long. */
export function composedName(parts: readonly (string | undefined)[]): string {
  const name = parts.filter((part) => part !== undefined).join("_");
  if (name.length <= MAX_NAME) return name;
  const hash = createHash("sha1").update(name).digest("hex").slice(0, 12);
  return `${name.slice(0, MAX_NAME - hash.length - 1)}_${hash}`;
}
