// A producer's calls fail with a typed error when Postgres is away (a restart, a failover): pg's
// own errors ("Connection terminated unexpectedly", ECONNRESET, a query timeout) say nothing a
// caller can branch on.
import { LayoverError } from "@layover/checkpoint";
import { classifyFailure, isQueryTimeout } from "@layover/checkpoint-postgres";
import { ClientClosedError, InvalidConfigError, PostgresUnavailableError } from "../errors.ts";

/**
 * Whether `error` is pg's (not Layover's) and says Postgres could not be reached: a connection
 * refused, reset or shut down, too many connections, a lost race retried in vain, or no answer
 * within the pool's query timeout.
 */
export function unreachableByPg(error: unknown): boolean {
  // Layover's own (a saver's POSTGRES_UNAVAILABLE among them) as they are: pg's carry a string code too.
  if (error instanceof LayoverError) return false;
  return isQueryTimeout(error) || classifyFailure(error) === "transient";
}

/**
 * Whether `error` says Postgres could not be reached: pg's, or Layover's POSTGRES_UNAVAILABLE, or
 * the saver's or store's report of a statement unanswered within the query timeout (which it
 * counts a failure retrying will not help: the statement may have run).
 */
export function isPostgresUnreachable(error: unknown): boolean {
  if (unreachableByPg(error)) return true;
  if (!(error instanceof LayoverError)) return false;
  return (
    error.code === "POSTGRES_UNAVAILABLE" ||
    (error.code === "POSTGRES_QUERY_FAILED" && isQueryTimeout((error as { cause?: unknown }).cause))
  );
}

/**
 * `error`, or a PostgresUnavailableError naming `call` when it says Postgres could not be reached:
 * pg's own error, or the saver's or store's POSTGRES_UNAVAILABLE (a PostgresSaverError once its
 * retries ran out), so a caller catches one class whichever part of the client failed.
 */
export function typedFailure(call: string, error: unknown, schema?: string): unknown {
  if (error instanceof PostgresUnavailableError) return error;
  if (isPostgresUnreachable(error)) return new PostgresUnavailableError(call, { cause: error });
  return schema !== undefined && lacksTables(error, schema) ? notMigrated(call, error, schema) : error;
}

/** SQLSTATEs of a statement naming a table, function or schema the database does not have. */
const UNDEFINED_OBJECT = new Set(["42P01", "42883", "3F000"]);

/** Whether `error` is pg's saying an object of `schema` (the runtime's tables, its functions) does not exist. */
function lacksTables(error: unknown, schema: string): error is Error {
  if (error instanceof LayoverError || !(error instanceof Error)) return false;
  const code = (error as { code?: unknown }).code;
  return typeof code === "string" && UNDEFINED_OBJECT.has(code) && error.message.includes(schema);
}

function notMigrated(call: string, error: Error, schema: string): InvalidConfigError {
  return new InvalidConfigError(
    `${call}: the runtime's tables are not in schema "${schema}" of this database (${error.message}): start a worker or scheduler on it (each creates them), or run migrateRuntime; or give createClient the schema they use.`,
    { cause: error },
  );
}

type Api = { [name: string]: unknown };

function isPromise(value: unknown): value is Promise<unknown> {
  return typeof (value as { then?: unknown } | null)?.then === "function";
}

function isAsyncIterable(value: unknown): value is AsyncIterable<unknown> {
  return typeof (value as { [Symbol.asyncIterator]?: unknown } | null)?.[Symbol.asyncIterator] === "function";
}

/**
 * `iterable`'s items; a failure while iterating as typedFailure says, or ClientClosedError once
 * the client closed (an iterable taken before `close()` and read after it).
 */
async function* typedItems(call: string, iterable: AsyncIterable<unknown>, wrapping: Wrapping) {
  try {
    yield* iterable;
  } catch (error) {
    throw closedFailure(call, error, wrapping);
  }
}

/** What a client's methods are wrapped with: its schema (see typedFailure), and whether it was closed. */
interface Wrapping {
  schema?: string | undefined;
  closed?: () => boolean;
}

/** The methods that give an async iterable (read after the call), not a promise. */
const ITERABLE_CALLS: ReadonlySet<string> = new Set(["runs.stream", "threads.history", "interrupts.watch"]);

/**
 * A call on a closed client: refused as the call would fail, a rejection or an iterable that
 * throws (with the `close()` a stream's and a watch's have, which does nothing).
 */
function refusedClosed(call: string): unknown {
  const error = new ClientClosedError(call);
  if (!ITERABLE_CALLS.has(call)) return Promise.reject(error);
  const refused = (async function* refused() {
    yield* [];
    throw error;
  })();
  return Object.assign(refused, { close: () => {} });
}

/**
 * A failure the client's close caused (pg's "Cannot use a pool after calling end", a reset
 * connection), as ClientClosedError; Layover's own errors (a refused argument) as they are.
 */
function closedFailure(call: string, error: unknown, wrapping: Wrapping): unknown {
  if (wrapping.closed?.() !== true) return typedFailure(call, error, wrapping.schema);
  // pg's, or the saver's report of it (a statement the ended pool could not run).
  const byClose =
    !(error instanceof LayoverError) ||
    isPostgresUnreachable(error) ||
    error.code === "POSTGRES_QUERY_FAILED";
  return byClose ? new ClientClosedError(call, true) : error;
}

/** `method` whose failures (thrown, rejected, or while its async iterable is read) are typed. */
function typedMethod(call: string, method: (...args: unknown[]) => unknown, wrapping: Wrapping) {
  const { schema, closed } = wrapping;
  return (...args: unknown[]) => {
    if (closed?.() === true) return refusedClosed(call);
    let result: unknown;
    try {
      result = method(...args);
    } catch (error) {
      throw typedFailure(call, error, schema);
    }
    if (isPromise(result))
      return result.catch((error: unknown) => {
        throw closedFailure(call, error, wrapping);
      });
    return isAsyncIterable(result) ? typedIterable(call, result, wrapping) : result;
  };
}

/** typedItems, keeping the iterable's `close()` (interrupts.watch's) where it has one. */
function typedIterable(call: string, iterable: AsyncIterable<unknown>, wrapping: Wrapping) {
  const items = typedItems(call, iterable, wrapping);
  const { close } = iterable as { close?: unknown };
  return typeof close === "function" ? Object.assign(items, { close: () => close.call(iterable) }) : items;
}

/**
 * `api` with each method (in nested groups too: `runs.start`) failing with
 * PostgresUnavailableError where Postgres could not be reached, with InvalidConfigError where
 * the runtime's tables are not in `schema`, and with ClientClosedError once `closed()` (doing
 * nothing); `close` is left as it is.
 */
export function withTypedFailures<T extends Api>(api: T, wrapping: Wrapping = {}, path = ""): T {
  const wrapped: Api = {};
  for (const [name, member] of Object.entries(api)) {
    const call = path === "" ? name : `${path}.${name}`;
    if (typeof member === "function" && name !== "close")
      wrapped[name] = typedMethod(call, member as (...args: unknown[]) => unknown, wrapping);
    else if (typeof member === "object" && member !== null && !Array.isArray(member))
      wrapped[name] = withTypedFailures(member as Api, wrapping, call);
    else wrapped[name] = member;
  }
  return wrapped as T;
}
