import { InvalidInputError } from "@layover/graph";
import type { Redis } from "ioredis";
import { connectRedis } from "../connections.ts";
import { shown } from "../keys.ts";
import {
  decodeStreamChunk,
  RUN_STREAM_END,
  type RunStreamMode,
  runStreamKey,
  runStreamModes,
} from "../run-stream.ts";
import { closable } from "./closable.ts";
import type { ClientContext } from "./context.ts";
import { type RunResult, requireRun } from "./read.ts";
import type { RunEventHub } from "./run-events.ts";
import { waitForRun } from "./wait.ts";

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

/**
 * What a run reports as it runs, in the modes its start (or resume) asked for, then its end: what
 * `runs.wait` resolves to, read from Postgres.
 */
export type RunStreamPart =
  | { id: string; event: RunStreamMode; data: unknown }
  | { id: string; event: "end"; data: RunResult };

export type RunStream = AsyncIterableIterator<RunStreamPart> & { close(): void };

/** How long one read of the run's Redis stream blocks. */
const READ_BLOCK_MS = 1_000;
/** How long past its block a read may go unanswered (Redis away) before the stream checks on the run. */
const READ_SLACK_MS = 1_000;
/** Entries per read. */
const READ_COUNT = 500;
/**
 * Once Postgres says the run settled, how long the stream waits for its worker's end entry (sent
 * right after the run's announcement) before it ends without it: a worker that died, Redis away.
 */
const END_GRACE_MS = 2_000;
/** A Redis stream entry id, as XADD gives them ("0" reads from the start). */
const ENTRY_ID = /^\d{1,20}(-\d{1,20})?$/;

type Entries = [id: string, fields: string[]][];

function checkOptions(options: StreamRunOptions) {
  const refuse = (what: string): never => {
    throw new InvalidInputError(`runs.stream: ${what}.`);
  };
  const { lastEventId = "0", timeoutMs = 60_000, signal } = options;
  if (typeof lastEventId !== "string" || !ENTRY_ID.test(lastEventId))
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
  redis: { connection: Redis; prefix: string },
  runId: string,
  options: StreamRunOptions = {},
): RunStream {
  const checked = checkOptions(options);
  return closable(options.signal, (stopped) => streaming(ctx, hub, redis, runId, checked, stopped));
}

/** The run's result once Postgres says it settled, watched in the background: `settledAt` is when. */
function watchSettle(
  ctx: ClientContext,
  hub: RunEventHub,
  runId: string,
  timeoutMs: number,
  stop: AbortSignal,
) {
  const state: { settledAt?: number; result?: RunResult; failure?: { error: unknown } } = {};
  const settled = waitForRun(ctx, hub, runId, { timeoutMs }, stop).then(
    (result) => {
      state.settledAt = Date.now();
      state.result = result;
    },
    (error: unknown) => {
      state.failure = { error };
    },
  );
  return { state, settled };
}

/** One read of the stream after `cursor`: its entries, or undefined when Redis has not answered in time (the read stays in flight). */
function reading(reader: Redis, key: string, stopped: AbortSignal) {
  let inFlight: Promise<Entries> | undefined;
  return async (cursor: string, blockMs: number): Promise<Entries | undefined> => {
    if (inFlight === undefined) {
      const asked = reader.xread("COUNT", READ_COUNT, "BLOCK", blockMs, "STREAMS", key, cursor) as Promise<
        [string, Entries][] | null
      >;
      inFlight = asked.then((answer) => answer?.[0]?.[1] ?? []);
      inFlight.catch(() => undefined); // a read cut short by the stream's end is not a failure
    }
    let timer: NodeJS.Timeout | undefined;
    let late = () => {};
    const lateOrStopped = new Promise<undefined>((resolve) => {
      late = () => resolve(undefined);
      timer = setTimeout(late, blockMs + READ_SLACK_MS);
      stopped.addEventListener("abort", late, { once: true });
    });
    try {
      const entries = await Promise.race([inFlight, lateOrStopped]);
      if (entries !== undefined) inFlight = undefined;
      return entries;
    } finally {
      clearTimeout(timer);
      stopped.removeEventListener("abort", late);
    }
  };
}

/** An entry's fields as the worker wrote them: `e` its event, `d` its data. */
function field(fields: string[], name: string): string | undefined {
  for (let i = 0; i + 1 < fields.length; i += 2) if (fields[i] === name) return fields[i + 1];
  return undefined;
}

async function* streaming(
  ctx: ClientContext,
  hub: RunEventHub,
  redis: { connection: Redis; prefix: string },
  runId: string,
  options: ReturnType<typeof checkOptions>,
  stopped: AbortSignal,
): AsyncGenerator<RunStreamPart> {
  const { run } = await requireRun(ctx, runId);
  if (runStreamModes(run.input) === undefined)
    throw new InvalidInputError(
      `runs.stream: run "${run.id}" was started without a streamMode, so its workers report nothing. ` +
        "Give config.streamMode to runs.start (or streamMode to threads.resume), or wait for the run with runs.wait.",
    );
  const ending = new AbortController();
  const watch = watchSettle(ctx, hub, run.id, options.timeoutMs, AbortSignal.any([stopped, ending.signal]));
  const reader = connectRedis(redis.connection, ctx.logger, "client run stream");
  const read = reading(reader, runStreamKey(redis.prefix, run.id), stopped);
  let cursor = options.lastEventId;
  try {
    for (let ended = false; !ended; ) {
      if (stopped.aborted) return;
      if (watch.state.failure !== undefined) throw watch.state.failure.error;
      const since = watch.state.settledAt;
      const left = since === undefined ? READ_BLOCK_MS : since + END_GRACE_MS - Date.now();
      if (left <= 0) break;
      const entries = (await read(cursor, Math.min(left, READ_BLOCK_MS))) ?? [];
      for (const [id, fields] of entries) {
        cursor = id;
        const event = field(fields, "e");
        if (event === RUN_STREAM_END) ended = true;
        if (ended || stopped.aborted) break;
        yield { id, event: event as RunStreamMode, data: decodeStreamChunk(field(fields, "d") ?? "null") };
      }
    }
    await watch.settled;
    if (watch.state.failure !== undefined) throw watch.state.failure.error;
    if (!stopped.aborted) yield { id: cursor, event: "end", data: watch.state.result as RunResult };
  } finally {
    ending.abort();
    reader.disconnect();
  }
}
