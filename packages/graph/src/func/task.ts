// LangGraph's `task()`: a function an entrypoint (or a graph's node) calls as a durable step.
import { InvalidGraphError } from "../errors.ts";
import { checkedCachePolicy } from "../graph/cache-policy.ts";
import type { CachePolicy, RetryPolicy } from "../graph/spec.ts";
import { checkedTimeout, type TimeoutPolicy } from "../node-timeout.ts";
import { callTask } from "./call.ts";

export interface TaskOptions {
  /** The task's name: in "updates" (`{ [name]: result }`), task events and its id. */
  name: string;
  /** Retries a failing call with backoff, as a node's retry policy. */
  retry?: RetryPolicy | undefined;
  /**
   * LangGraph's cache policy: the task's result is kept in the workflow's cache (`entrypoint({
   * cache })`, a graph's `compile({ cache })`) for its arguments, and given back for the same
   * arguments instead of running it; without a cache it does nothing, as there.
   */
  cachePolicy?: CachePolicy | boolean | undefined;
  /** LangGraph.js's other name for cachePolicy. */
  cache?: CachePolicy | boolean | undefined;
  /**
   * LangGraph's timeout of one attempt: milliseconds (a number, or `runTimeout`), or without
   * progress (`idleTimeout`), as a node's (`addNode(…, { timeout })`). A timed-out call fails with
   * NodeTimeoutError, which its retry policy retries.
   */
  timeout?: number | TimeoutPolicy | undefined;
}

const TASK_OPTIONS = ["name", "retry", "cachePolicy", "cache", "timeout"];

/** A task's or entrypoint's name, refused where it would break a namespace (`:`, `|`) or is empty. */
export function checkedName(name: unknown, what: string): string {
  if (typeof name !== "string" || name === "" || /[:|]/.test(name))
    throw new InvalidGraphError(
      `${what} needs a name: a non-empty string without ":" or "|"; got ${JSON.stringify(name) ?? typeof name}.`,
    );
  return name;
}

/** Refuses what a task or entrypoint cannot run: not a function, or a generator (as LangGraph.js). */
export function checkedFunction(fn: unknown, what: string): void {
  if (typeof fn !== "function") throw new InvalidGraphError(`${what} takes a function.`);
  const kind = fn.constructor?.name;
  if (kind === "GeneratorFunction" || kind === "AsyncGeneratorFunction")
    throw new InvalidGraphError(
      `${what} is a generator function, which cannot be one: return a value, and stream with config.writer.`,
    );
}

/**
 * A durable step, as LangGraph's `task()`: calling the returned function inside an entrypoint
 * (or a graph's node) runs `fn` as a task of the running superstep and resolves to its result. The
 * result is kept: when the workflow runs again after an `interrupt()` (or a crash, or a retry),
 * the same call — the same task, called in the same order — gives it back without running
 * `fn` again. `fn`'s result must be a JSON value when the run has a checkpointer.
 */
export function task<A extends unknown[], R>(
  options: string | TaskOptions,
  fn: (...args: A) => R | Promise<R>,
): (...args: A) => Promise<Awaited<R>> {
  const given: TaskOptions = typeof options === "string" ? { name: options } : options;
  const name = checkedName(given?.name, "task()");
  checkedFunction(fn, `task "${name}"`);
  const unknown = Object.keys(given).filter((key) => !TASK_OPTIONS.includes(key));
  if (unknown.length > 0)
    throw new InvalidGraphError(
      `task "${name}" does not take ${unknown.map((key) => `"${key}"`).join(", ")}: it takes ${TASK_OPTIONS.join(", ")}.`,
    );
  const policies = {
    retry: given.retry,
    // `cache`: LangGraph.js takes it for cachePolicy too.
    cachePolicy: checkedCachePolicy(given.cachePolicy ?? given.cache, `task "${name}"`),
    timeout: checkedTimeout(given.timeout, `task "${name}"`),
  };
  return (...args: A) =>
    callTask(name, fn as (...args: unknown[]) => unknown, args, policies) as Promise<Awaited<R>>;
}
