import { InvalidInputError } from "@layover/graph";
import { shown } from "../keys.ts";
import { type RunStreamMode, runStreamKey, runStreamModes } from "../run-stream.ts";
import { closable } from "./closable.ts";
import type { ClientContext } from "./context.ts";
import { type RunResult, requireRun } from "./read.ts";
import type { RunEventHub } from "./run-events.ts";
import type { StreamReaders } from "./stream-readers.ts";
import { entryId, streamReads } from "./stream-reading.ts";
import { SETTLED, waitForRun } from "./wait.ts";

export interface StreamRunOptions {
  /**
   * Continue after this part's `id` (from an earlier stream of the same run, as a server-sent
   * events `Last-Event-ID`). @defaultValue the run's first chunk
   */
  lastEventId?: string | undefined;
  /** How long the run may take to park or finish, as runs.wait's. @defaultValue 60000 */
  timeoutMs?: number;
  /** Ends the stream. */
  signal?: AbortSignal;
}

export const STREAM_OPTIONS = [
  "lastEventId",
  "timeoutMs",
  "signal",
] as const satisfies readonly (keyof StreamRunOptions)[];

/**
 * What a run reports as it runs, in the modes its start (or resume) asked for, then its end: what
 * `runs.wait` resolves to, read from Postgres.
 */
/** A part's event: its mode, or `"<mode>|<namespace>"` for a subgraph's (with `streamSubgraphs`). */
export type RunStreamEvent = RunStreamMode | `${RunStreamMode}|${string}`;

export type RunStreamPart =
  | { id: string; event: RunStreamEvent; data: unknown }
  | { id: string; event: "end"; data: RunResult };

export type RunStream = AsyncIterableIterator<RunStreamPart> & { close(): void };

/** How long one read of the run's Redis stream blocks. */
const READ_BLOCK_MS = 1_000;
/**
 * Once Postgres says the run settled and the stream is read to its last entry, how long it waits
 * for its worker's end entry (sent right after the run's announcement; a Redis slow to take a
 * job's last chunks holds them up to REDIS_WAIT_MS) before it ends without it: a worker that died.
 */
const END_GRACE_MS = 10_000;
/**
 * Once the run settled, how long a read may go unanswered while the reader's connection is down
 * (Redis away) before the stream ends without the rest; one on a connection that is up may be a
 * large reply still arriving, and is waited for (a silent connection is dropped after
 * REDIS_SOCKET_TIMEOUT_MS).
 */
const REDIS_AWAY_MS = 5_000;

function checkOptions(options: StreamRunOptions) {
  const refuse = (what: string): never => {
    throw new InvalidInputError(`runs.stream: ${what}.`);
  };
  const { lastEventId = "0", timeoutMs = 60_000, signal } = options;
  if (entryId(lastEventId) === undefined)
    refuse(
      `lastEventId must be the id of a part an earlier stream of this run gave, unchanged; got ${shown(lastEventId)}`,
    );
  if (typeof timeoutMs !== "number" || Number.isNaN(timeoutMs) || timeoutMs < 0)
    refuse(
      `timeoutMs must be a number of milliseconds, 0 or more (Infinity waits without end); got ${shown(timeoutMs)}`,
    );
  if (signal !== undefined && !(signal instanceof AbortSignal))
    refuse(`signal must be an AbortSignal; got ${shown(signal)}`);
  return { lastEventId, timeoutMs };
}

/**
 * Run `runId`'s stream: the chunks its workers report (from its first, or after `lastEventId`),
 * then one "end" part with its result once it parks, finishes, fails or is cancelled. The chunks
 * are a live view kept in Redis for an hour: at least once (a superstep a worker redoes after a
 * crash reports again), none while Redis is away; the end is Postgres's. A run started without a
 * `streamMode` is refused (InvalidInputError); the stream's failure ends it with the error.
 */
export function streamRun(
  ctx: ClientContext,
  hub: RunEventHub,
  redis: { readers: StreamReaders; prefix: string },
  runId: string,
  options: StreamRunOptions = {},
): RunStream {
  const checked = checkOptions(options);
  // The client's close ends its open streams too (their readers are closed with it).
  const signal =
    options.signal === undefined
      ? redis.readers.closing
      : AbortSignal.any([options.signal, redis.readers.closing]);
  return closable(signal, (stopped) => streaming(ctx, hub, redis, runId, checked, stopped));
}

/**
 * The run's result once Postgres says it settled, watched in the background: `settledAt` is when
 * (`before`, for a run settled when the stream began: its settle's time, so a stream read long
 * after the run, its Redis stream gone, does not wait out the grace for an end entry again).
 */
function watchSettle(
  ctx: ClientContext,
  hub: RunEventHub,
  runId: string,
  options: { timeoutMs: number; before: number | undefined },
  stop: AbortSignal,
) {
  const state: { settledAt?: number; result?: RunResult; failure?: { error: unknown } } = {};
  const settled = waitForRun(ctx, hub, runId, { timeoutMs: options.timeoutMs }, stop).then(
    (result) => {
      state.settledAt = options.before ?? Date.now();
      state.result = result;
    },
    (error: unknown) => {
      state.failure = { error };
    },
  );
  return { state, settled };
}

/**
 * Whether the stream should end without the worker's end entry: the run settled, and Redis gave
 * all it had for END_GRACE_MS, or has left a read unanswered for REDIS_AWAY_MS.
 */
function givesUp(
  settledAt: number | undefined,
  caughtUp: boolean,
  away: { unansweredMs: number; up: boolean },
) {
  if (settledAt === undefined) return false;
  return (
    (caughtUp && Date.now() - settledAt >= END_GRACE_MS) || (!away.up && away.unansweredMs >= REDIS_AWAY_MS)
  );
}

async function* streaming(
  ctx: ClientContext,
  hub: RunEventHub,
  redis: { readers: StreamReaders; prefix: string },
  runId: string,
  options: ReturnType<typeof checkOptions>,
  stopped: AbortSignal,
): AsyncGenerator<RunStreamPart> {
  const { run } = await requireRun(ctx, runId);
  if (runStreamModes(run.input) === undefined)
    throw new InvalidInputError(
      `runs.stream: run "${run.id}" was started without a streamMode, so its workers report nothing. Give ` +
        "config.streamMode to runs.start (or streamMode to threads.resume or threads.continue), or wait for the run with runs.wait.",
    );
  const ending = new AbortController();
  // Postgres's time of the settle, no later than now here (a clock ahead of this one's adds no wait).
  const before = SETTLED.has(run.status) ? Math.min(run.updated_at.getTime(), Date.now()) : undefined;
  const stop = AbortSignal.any([stopped, ending.signal]);
  const watch = watchSettle(ctx, hub, run.id, { timeoutMs: options.timeoutMs, before }, stop);
  const reader = redis.readers.acquire();
  const reads = streamReads(reader, runStreamKey(redis.prefix, run.id), stopped);
  let cursor = options.lastEventId;
  try {
    let [caughtUp, checkedEnd] = [false, false];
    const away = () => ({ unansweredMs: reads.unansweredFor(), up: reader.status === "ready" });
    for (let ended = false; !ended && !givesUp(watch.state.settledAt, caughtUp, away()); ) {
      if (stopped.aborted) return;
      if (watch.state.failure !== undefined) throw watch.state.failure.error;
      const entries = await reads.read(cursor, READ_BLOCK_MS);
      if (entries === undefined) continue;
      caughtUp = entries.length === 0;
      for (const entry of entries) {
        cursor = entry.id;
        ended = entry.end;
        if (entry.end || stopped.aborted) break;
        if (entry.event !== undefined) yield { id: entry.id, event: entry.event, data: entry.data };
      }
      // Rejoined after the end entry: nothing more will come.
      if (caughtUp && watch.state.settledAt !== undefined && !checkedEnd) {
        checkedEnd = true;
        ended = await reads.endPassed(cursor);
      }
    }
    await watch.settled;
    if (stopped.aborted) return;
    if (watch.state.failure !== undefined) throw watch.state.failure.error;
    yield { id: cursor, event: "end", data: watch.state.result as RunResult };
  } finally {
    ending.abort();
    redis.readers.release(reader, !reads.busy());
  }
}
