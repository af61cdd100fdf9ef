// What a statement is to a PipelinedPool's lanes: whether it may go out pipelined, whether it is
// a named (prepared) one, and whether its failure is its own (the server answered it) or its
// connection's.

/**
 * Whether a query may be pipelined: promise-style, not a cursor (it keeps a portal open), and
 * without a query_timeout of its own (time behind others on a lane would count against it).
 */
export function pipelinable(args: unknown[]): boolean {
  const [config] = args;
  if (args.some((arg) => typeof arg === "function")) return false;
  if (typeof config !== "object" || config === null) return true;
  return typeof (config as { submit?: unknown }).submit !== "function" && !("query_timeout" in config);
}

export function isNamed(args: unknown[]): boolean {
  const [config] = args;
  return (
    typeof config === "object" && config !== null && typeof (config as { name?: unknown }).name === "string"
  );
}

/**
 * SQLSTATEs with which a server ends a session under way (FATAL): connection exceptions and
 * protocol violations (class 08), a terminated backend or dropped database, idle and transaction
 * timeouts. Codes only a log-in fails with (28, 3D000, 53300, 57P03) are not here: a failed
 * connect is no answer anyway, and an ERROR may carry them (pg_database_size('nosuch'): 3D000).
 * Not told apart by code: a FATAL with a code ERRORs use too (a standby's recovery conflict,
 * 40001; any, with exit_on_error): its lane takes statements until pg sees the socket end, and
 * one sent meanwhile fails as on a dropped connection.
 */
const SESSION_ENDING = /^(08|57P0[1245]$|25P0[34]$)/;

/**
 * Whether `error` is a statement's own failure, answered by the server (its connection is fine):
 * an ERROR, not a FATAL or PANIC. The severity is in the server's language (lc_messages: a German
 * server says FEHLER); one that is not English is read by its SQLSTATE instead.
 */
export function isStatementAnswer(error: unknown): boolean {
  const { severity, code } = (error ?? {}) as { severity?: unknown; code?: unknown };
  if (typeof severity !== "string" || typeof code !== "string") return false; // not the server's
  if (severity === "ERROR") return true;
  if (severity === "FATAL" || severity === "PANIC") return false;
  return !SESSION_ENDING.test(code);
}

export function sqlstate(error: unknown): unknown {
  return (error as { code?: unknown } | null)?.code;
}
