import { isCheckpointConflict, isLayoverError, LayoverError } from "@layover/checkpoint";

export type PostgresSaverErrorCode =
  /** Connection loss, restarts, serialization failures or deadlocks outlasted the retries. */
  | "POSTGRES_UNAVAILABLE"
  /** The saver's tables are missing: `migrate()` has not run against this schema. */
  | "POSTGRES_SCHEMA_MISSING"
  /** Postgres refused a statement for a reason retrying cannot fix. */
  | "POSTGRES_QUERY_FAILED"
  /** An argument the saver cannot store or look up (a checkpoint id that is not a UUID, a bad schema name…). */
  | "INVALID_SAVER_INPUT"
  /** A write names a checkpoint of a thread (namespace) that has none. */
  | "CHECKPOINT_NOT_FOUND"
  /** Stored rows a checkpoint needs are missing (a delta without its base): the data was changed outside the saver. */
  | "CHECKPOINT_DATA_CORRUPT"
  /** A migration failed, or a shipped migration was edited after it was applied. */
  | "MIGRATION_FAILED";

/** What to do when it happens: printed after the message. */
function advice(code: PostgresSaverErrorCode): string {
  switch (code) {
    case "POSTGRES_UNAVAILABLE":
      return "Check that Postgres is up and reachable; the operation can be retried as is.";
    case "POSTGRES_SCHEMA_MISSING":
      return "Run `await migrate(pool, { schema })` (or `saver.setup()`) before using the saver.";
    case "POSTGRES_QUERY_FAILED":
      return "See `cause` for Postgres's error; retrying will not help.";
    case "INVALID_SAVER_INPUT":
      return "Fix the argument and call again; nothing was written.";
    case "CHECKPOINT_NOT_FOUND":
      return "Put the checkpoint first (or check the thread id and namespace); nothing was written.";
    case "CHECKPOINT_DATA_CORRUPT":
      return "Rows were deleted or edited outside the saver; restore them or delete the thread.";
    case "MIGRATION_FAILED":
      return "Nothing of the failed migration was applied; fix the cause and run migrate() again (a worker or scheduler migrates when it starts).";
  }
}

/** A typed failure of the Postgres saver; `sqlstate` is Postgres's error code when there is one. */
export class PostgresSaverError extends LayoverError<PostgresSaverErrorCode> {
  readonly sqlstate: string | undefined;
  constructor(code: PostgresSaverErrorCode, message: string, options: { cause?: unknown } = {}) {
    super(code, `${message} ${advice(code)}`, options);
    this.sqlstate = sqlstateOf(options.cause);
  }
}

export function isPostgresSaverError(
  error: unknown,
  code?: PostgresSaverErrorCode,
): error is PostgresSaverError {
  return isLayoverError(error, code) && (error as { name?: unknown }).name === "PostgresSaverError";
}

/** Postgres's SQLSTATE of `error`, or the Node socket error code (ECONNRESET…). */
export function sqlstateOf(error: unknown): string | undefined {
  if (typeof error !== "object" || error === null) return undefined;
  const code = (error as { code?: unknown }).code;
  return typeof code === "string" ? code : undefined;
}

/** Socket-level failures, reported by Node with these codes. */
const NETWORK_CODES = new Set([
  "ECONNRESET",
  "ECONNREFUSED",
  "EPIPE",
  "ETIMEDOUT",
  "EAI_AGAIN",
  "EHOSTUNREACH",
]);

/** Failures node-postgres reports without a code, by message. */
const CONNECTION_MESSAGES = [
  "Connection terminated",
  "connection error and is not queryable",
  "Client was closed and is not queryable",
  "timeout exceeded when trying to connect",
  "Connection terminated due to connection timeout",
];

export type FailureClass = "transient" | "schema-missing" | "permanent";

/**
 * Whether `error` is pg's report of a statement that got no answer within the pool's
 * `query_timeout` (a silent server or network). The statement may still run on the server: its
 * connection is not fit for another caller.
 */
export function isQueryTimeout(error: unknown): boolean {
  return error instanceof Error && error.message === "Query read timeout";
}

/**
 * Classifies a failure by SQLSTATE (as graphile-worker does): serialization failures (40001),
 * deadlocks (40P01), connection exceptions (class 08), shutdowns and startups (57P01–57P03),
 * too many connections (53300) and socket errors are transient — retry with backoff.
 * Undefined table or schema (42P01, 3F000) means migrations have not run. Anything else is
 * permanent.
 */
export function classifyFailure(error: unknown): FailureClass {
  const code = sqlstateOf(error);
  if (code !== undefined) {
    if (code === "40001" || code === "40P01" || code === "53300") return "transient";
    if (code.startsWith("08") || code === "57P01" || code === "57P02" || code === "57P03") return "transient";
    if (NETWORK_CODES.has(code)) return "transient";
    if (code === "42P01" || code === "3F000") return "schema-missing";
  }
  const message = error instanceof Error ? error.message : "";
  if (CONNECTION_MESSAGES.some((text) => message.includes(text))) return "transient";
  if (message === "timeout expired") return "transient"; // pg Client's connectionTimeoutMillis (not a pool's)
  return "permanent";
}

/**
 * True for Layover's own errors (a compare-and-set conflict, a value that cannot be stored…).
 * Not `isLayoverError` alone: pg and socket errors carry a string `code` too.
 */
export function isOwnError(error: unknown): boolean {
  return error instanceof LayoverError || (isLayoverError(error) && isCheckpointConflict(error));
}

/** Wraps a failure that retrying did not (or cannot) fix as a typed error; Layover errors pass through. */
export function toSaverError(error: unknown, what: string, attempts: number): unknown {
  if (isOwnError(error)) return error;
  const detail = error instanceof Error ? error.message : String(error);
  switch (classifyFailure(error)) {
    case "transient":
      return new PostgresSaverError(
        "POSTGRES_UNAVAILABLE",
        `${what} failed after ${attempts} attempt(s): ${detail}.`,
        { cause: error },
      );
    case "schema-missing":
      return new PostgresSaverError("POSTGRES_SCHEMA_MISSING", `${what} failed: ${detail}.`, {
        cause: error,
      });
    case "permanent":
      return new PostgresSaverError("POSTGRES_QUERY_FAILED", `${what} failed: ${detail}.`, { cause: error });
  }
}
