// A BullMQ worker whose jobs need Postgres stops taking them while Postgres is away: a job that
// could not reach it goes back to the queue as it was, with no attempt spent, and the worker
// checks on its own when Postgres answers again. An outage longer than a job's retries (a long
// failover, a partition) then loses nothing and floods nothing: the work waits in Redis and
// starts within seconds of Postgres's return, without reconciliation's backoff.
import { LayoverError } from "@layover/checkpoint";
import { isQueryTimeout } from "@layover/checkpoint-postgres";
import type { Job, Worker } from "bullmq";
import type pg from "pg";
import type { Logger } from "pino";
import { unreachableByPg } from "./client/typed-failures.ts";
import { POSTGRES_QUESTION } from "./status-server.ts";

/** The first pause before asking Postgres again, and the longest (it doubles in between). */
export const OUTAGE_FIRST_CHECK_MS = 250;
export const OUTAGE_MAX_CHECK_MS = 2_000;

/**
 * How many times one worker process puts a job back, unspent, for a statement lost to a silence
 * that had ended by the time the gate asked Postgres (see lostToSilence); past that, its failures
 * are charged. Each process counts its own (a job that moves between processes gets theirs too).
 */
export const SILENCE_HOLDS_PER_JOB = 3;

/** Serialization failures and deadlocks: Postgres answered, the statement lost a race. */
const LOST_RACE = new Set(["40001", "40P01"]);

/** pg's error under Layover's wrappers: POSTGRES_UNAVAILABLE, and the saver's POSTGRES_QUERY_FAILED (a query timeout). */
function pgErrorOf(error: unknown): unknown {
  if (!(error instanceof LayoverError)) return error;
  return error.code === "POSTGRES_UNAVAILABLE" || error.code === "POSTGRES_QUERY_FAILED"
    ? error.cause
    : undefined;
}

/**
 * Whether `error` says Postgres may be away: it could not be reached or connected to (refused,
 * reset, shutting down, too many connections) or left a statement unanswered, raw from pg or
 * wrapped by Layover. Not a statement that lost a race: Postgres is there. A statement can fail
 * so while Postgres answers the rest (its connection killed, a proxy's timeout): the gate asks
 * Postgres before it holds a job for it.
 */
export function isPostgresDown(error: unknown): boolean {
  const cause = pgErrorOf(error);
  const code = (cause as { code?: unknown } | null | undefined)?.code;
  // A query timeout counts: Postgres's own statement_timeout, shorter (connectPostgres), would
  // have answered were it there (a network gone silent); without one (behind PgBouncer), a slow
  // statement, which the gate's question to Postgres tells apart.
  return unreachableByPg(cause) && !(typeof code === "string" && LOST_RACE.has(code));
}

/**
 * Whether a statement of `pool` unanswered for its query timeout was lost to the network, not
 * slow: its statement_timeout, shorter, would have had Postgres answer first.
 */
function silenceIsTheNetwork(pool: pg.Pool): boolean {
  const { query_timeout: queryMs = 0, statement_timeout: statementMs = 0 } = pool.options as {
    query_timeout?: number;
    statement_timeout?: number;
  };
  return statementMs > 0 && queryMs > statementMs;
}

/**
 * Whether Postgres answers POSTGRES_QUESTION on `pool` within the readiness probe's time; one
 * question at a time. A stale connection that fails it is dropped from the pool.
 */
function asker(pool: pg.Pool): () => Promise<boolean> {
  let asking: Promise<boolean> | undefined;
  return () => {
    asking ??= pool
      .query(POSTGRES_QUESTION)
      .then(
        () => true,
        () => false,
      )
      .finally(() => {
        asking = undefined;
      });
    return asking;
  };
}

/**
 * Counts the holds of each job (by id), `max` at most: take() says whether one more is allowed,
 * and which it is. Past 10,000 jobs held so, it forgets the others' counts (a job then gets its
 * holds again): a bound on memory, not on a job.
 */
function holdCounter(max: number) {
  const counts = new Map<string, number>();
  return {
    take(jobId: string | undefined): number | undefined {
      if (jobId === undefined) return undefined;
      const n = counts.get(jobId) ?? 0;
      if (n >= max) return undefined;
      if (n === 0 && counts.size >= 10_000) counts.clear();
      counts.set(jobId, n + 1);
      return n + 1;
    },
  };
}

export interface OutageGate {
  /**
   * A job failed with `error`. When that says Postgres is away (and Postgres does not answer
   * now), puts the job back in the queue (no attempt spent), stops this worker taking jobs until
   * Postgres answers, and returns true: the processor then throws BullMQ's WaitingError.
   * `startedAt`: when the job began (a job begun before an outage's end that fails after it is
   * put back, and starts no other). A closing service still puts such jobs back, unspent.
   */
  holdIfDown(error: unknown, job: Job, token: string | undefined, startedAt: number): Promise<boolean>;
  /** Stops checking on Postgres (the service is closing). */
  close(): void;
}

/**
 * The outage gate of `worker()`'s jobs: while it holds, one statement asks `pool` whether
 * Postgres answers, after 250 ms, then twice as long each time, at most every 2 s. Logs an
 * outage once at warn, its end at info.
 */
export function postgresOutageGate(
  pool: pg.Pool,
  worker: () => Worker | undefined,
  logger: Logger,
): OutageGate {
  let since: number | undefined;
  let endedAt = 0;
  let timer: NodeJS.Timeout | undefined;
  let closed = false;
  const answers = asker(pool);
  const silenceHolds = holdCounter(SILENCE_HOLDS_PER_JOB);
  const lostToSilence = (error: unknown) => silenceIsTheNetwork(pool) && isQueryTimeout(pgErrorOf(error));

  function checkAfter(waitMs: number): void {
    timer = setTimeout(async () => {
      const up = await answers();
      if (closed) return;
      if (!up) return checkAfter(Math.min(waitMs * 2, OUTAGE_MAX_CHECK_MS));
      logger.info({ outageMs: Date.now() - (since ?? Date.now()) }, "Postgres answers again; taking jobs");
      since = undefined;
      endedAt = Date.now();
      await worker()?.resume();
    }, waitMs);
  }

  /** Pauses the worker until Postgres answers, unless an outage is already under way. */
  async function outageBegins(error: unknown): Promise<void> {
    if (since !== undefined || closed) return;
    since = Date.now();
    logger.warn(
      { err: error },
      "Postgres unreachable: no jobs taken here until it answers; they wait in the queue, spending no attempts",
    );
    await worker()?.pause(true);
    checkAfter(OUTAGE_FIRST_CHECK_MS);
  }

  return {
    async holdIfDown(error, job, token, startedAt) {
      if (token === undefined || !isPostgresDown(error)) return false;
      if (since === undefined && startedAt >= endedAt) {
        // Postgres answering, the failure was this job's own (a poison job would come back for
        // ever), unless the network lost its statement and came back since: a partition that
        // ended while the statement waited for its query timeout. That, a few times per job.
        if (await answers()) {
          const hold = lostToSilence(error) ? silenceHolds.take(job.id) : undefined;
          if (hold === undefined) return false;
          logger.info(
            { err: error, jobId: job.id, hold, of: SILENCE_HOLDS_PER_JOB },
            "a statement lost to a network silence that has ended: the job goes back unspent",
          );
        } else await outageBegins(error);
      }
      await job.moveToWait(token);
      return true;
    },
    close() {
      closed = true;
      clearTimeout(timer);
    },
  };
}
