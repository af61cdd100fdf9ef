import { setTimeout as sleep } from "node:timers/promises";
import { classifyFailure, isOwnError, toSaverError } from "./errors.ts";

/** How transient failures (connection loss, restarts, 40001, 40P01) are retried. */
export interface RetryOptions {
  /**
   * Attempts in all, the first included.
   * @defaultValue 8
   */
  maxAttempts?: number;
  /**
   * The backoff before the second attempt; it doubles each attempt, capped by `maxDelayMs`,
   * and the actual wait is drawn uniformly below it ("full jitter").
   * @defaultValue 50
   */
  baseDelayMs?: number;
  /**
   * The largest backoff.
   * @defaultValue 2000
   */
  maxDelayMs?: number;
  /** Called before each retry (for logs and metrics). */
  onRetry?: (info: { operation: string; attempt: number; delayMs: number; error: unknown }) => void;
}

export interface RetryContext {
  /** 1 for the first attempt. */
  attempt: number;
}

/** The wait before attempt `attempt + 1`: uniform in [0, min(max, base · 2^(attempt-1))]. */
export function backoffDelay(attempt: number, options: RetryOptions, random = Math.random): number {
  const base = options.baseDelayMs ?? 50;
  const cap = Math.min(options.maxDelayMs ?? 2_000, base * 2 ** (attempt - 1));
  return Math.round(random() * cap);
}

/**
 * Runs `operation`, retrying transient failures with jittered exponential backoff; anything
 * else (and a transient failure on the last attempt) is thrown as a typed error. Layover errors
 * — a compare-and-set conflict above all — are thrown at once, never retried.
 */
export async function withRetry<T>(
  what: string,
  options: RetryOptions,
  operation: (context: RetryContext) => Promise<T>,
): Promise<T> {
  const maxAttempts = Math.max(1, options.maxAttempts ?? 8);
  for (let attempt = 1; ; attempt++) {
    try {
      return await operation({ attempt });
    } catch (error) {
      if (isOwnError(error) || attempt >= maxAttempts || classifyFailure(error) !== "transient") {
        throw toSaverError(error, what, attempt);
      }
      const delayMs = backoffDelay(attempt, options);
      options.onRetry?.({ operation: what, attempt, delayMs, error });
      await sleep(delayMs);
    }
  }
}
