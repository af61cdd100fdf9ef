// A producer's calls fail with a typed error when Postgres is away (a restart, a failover): pg's
// own errors ("Connection terminated unexpectedly", ECONNRESET, a query timeout) say nothing a
// caller can branch on.
import { LayoverError } from "@layover/checkpoint";
import { classifyFailure, isQueryTimeout } from "@layover/checkpoint-postgres";
import { PostgresUnavailableError } from "../errors.ts";

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
export function typedFailure(call: string, error: unknown): unknown {
  if (error instanceof PostgresUnavailableError) return error;
  return isPostgresUnreachable(error) ? new PostgresUnavailableError(call, { cause: error }) : error;
}

type Api = { [name: string]: unknown };

function isPromise(value: unknown): value is Promise<unknown> {
  return typeof (value as { then?: unknown } | null)?.then === "function";
}

function isAsyncIterable(value: unknown): value is AsyncIterable<unknown> {
  return typeof (value as { [Symbol.asyncIterator]?: unknown } | null)?.[Symbol.asyncIterator] === "function";
}

/** `iterable`'s items; a failure while iterating as typedFailure says. */
async function* typedItems(call: string, iterable: AsyncIterable<unknown>) {
  try {
    yield* iterable;
  } catch (error) {
    throw typedFailure(call, error);
  }
}

/** `method` whose failures (thrown, rejected, or while its async iterable is read) are typed. */
function typedMethod(call: string, method: (...args: unknown[]) => unknown) {
  return (...args: unknown[]) => {
    let result: unknown;
    try {
      result = method(...args);
    } catch (error) {
      throw typedFailure(call, error);
    }
    if (isPromise(result))
      return result.catch((error: unknown) => {
        throw typedFailure(call, error);
      });
    return isAsyncIterable(result) ? typedIterable(call, result) : result;
  };
}

/** typedItems, keeping the iterable's `close()` (interrupts.watch's) where it has one. */
function typedIterable(call: string, iterable: AsyncIterable<unknown>) {
  const items = typedItems(call, iterable);
  const { close } = iterable as { close?: unknown };
  return typeof close === "function" ? Object.assign(items, { close: () => close.call(iterable) }) : items;
}

/**
 * `api` with each method (in nested groups too: `runs.start`) failing with
 * PostgresUnavailableError where Postgres could not be reached; `close` is left as it is.
 */
export function withTypedFailures<T extends Api>(api: T, path = ""): T {
  const wrapped: Api = {};
  for (const [name, member] of Object.entries(api)) {
    const call = path === "" ? name : `${path}.${name}`;
    if (typeof member === "function" && name !== "close")
      wrapped[name] = typedMethod(call, member as (...args: unknown[]) => unknown);
    else if (typeof member === "object" && member !== null && !Array.isArray(member))
      wrapped[name] = withTypedFailures(member as Api, call);
    else wrapped[name] = member;
  }
  return wrapped as T;
}
