import { InvalidInputError } from "@layover/graph";
import { RunNotFoundError, WaitTimeoutError } from "../errors.ts";
import { decodeRunResult } from "../run-result.ts";
import { type RunStatus, type RunWithPending, runWithPendingAlong } from "../sql/runs.ts";
import { isUuid } from "../uuid.ts";
import { within } from "../within.ts";
import type { ClientContext } from "./context.ts";
import { type RunResult, readRunResult, requireRun, runResult, toPendingInterrupt } from "./read.ts";
import type { Announced, RunEventHub } from "./run-events.ts";
import { isPostgresUnreachable } from "./typed-failures.ts";

/** A run has settled when it finished, failed, was cancelled, or parked waiting for a person. */
/** The statuses of a run that has settled: finished, failed, cancelled or parked. */
export const SETTLED: ReadonlySet<string> = new Set<RunStatus>([
  "success",
  "error",
  "cancelled",
  "interrupted",
]);

/**
 * Pub/sub wakes the waiter; Postgres says what happened. Messages can be lost (a Redis
 * reconnect), so the run is also re-read at this slow interval.
 */
const SAFETY_RECHECK_MS = 2_000;

/**
 * How long a wait holds off reading Postgres for its subscription: without Redis it still
 * answers from Postgres (a run already settled at once, then at each recheck) within its timeout.
 */
const SUBSCRIBE_WAIT_MS = 500;

/** The run's result if it has settled, and its thread (once read). */
type Reading = { result: RunResult | undefined; threadId: string | undefined };

/**
 * Reads the run (with its thread's pending interrupts, parked) and, once settled, its thread's
 * head. Woken by an event that announced a settled status (`hint`) on a thread already known,
 * the two are read at once rather than one after the other; Postgres still decides.
 */
async function readSettled(
  ctx: ClientContext,
  runId: string,
  threadId: string | undefined,
  hint: string | undefined,
): Promise<Reading> {
  if (threadId === undefined || hint === undefined || !SETTLED.has(hint)) {
    const found = await requireRun(ctx, runId);
    const result = SETTLED.has(found.run.status) ? await readRunResult(ctx, found) : undefined;
    if (result !== undefined) seen(ctx, found);
    return { result, threadId: found.run.thread_id };
  }
  const { run, pending, tuple } = await runAndHead(ctx, runId, threadId);
  if (SETTLED.has(run.status)) seen(ctx, { run, pending });
  return { result: SETTLED.has(run.status) ? runResult(run, tuple, pending) : undefined, threadId };
}

/** A parked run's pending interrupts, kept for a resume that follows (see resumeThread). */
function seen(ctx: ClientContext, { run, pending }: RunWithPending): void {
  if (run.status === "interrupted") ctx.seenPending?.remember(run.thread_id, pending);
}

/** The run (with pending interrupts) and its thread's head: in one statement on the client's own saver. */
async function runAndHead(ctx: ClientContext, runId: string, threadId: string) {
  if (ctx.alongSaver === undefined || !isUuid(runId)) {
    const [found, tuple] = await Promise.all([
      requireRun(ctx, runId),
      ctx.saver.getTuple({ threadId, ns: "" }),
    ]);
    return { ...found, tuple };
  }
  const along = runWithPendingAlong(ctx.db);
  const read = await ctx.alongSaver.getTupleAlong({ threadId, ns: "" }, along, runId.toLowerCase());
  if (read.value === undefined) throw new RunNotFoundError(runId);
  return { ...read.value, tuple: read.tuple };
}

/**
 * The run's result as its event carried it (the worker that parked or finished it sends what it
 * stored, up to a size), when this client reads state as the event encodes it: with its own
 * Postgres saver. Undefined when the event carried none: Postgres answers. Only for an event
 * that reached the wait while it listened: the run settled during the wait, and this is what
 * it settled with. An event heard before the wait began is a hint (the run may have been
 * cancelled, answered or deleted since): Postgres answers.
 */
function announcedResult(
  ctx: ClientContext,
  runId: string,
  event: Announced | undefined,
): RunResult | undefined {
  if (ctx.alongSaver === undefined || event?.result === undefined) return undefined;
  if (event.status !== "success" && event.status !== "interrupted") return undefined;
  const { values, pending } = decodeRunResult(event.result);
  if (event.status === "interrupted") ctx.seenPending?.remember(event.threadId, pending);
  return {
    runId: runId.toLowerCase(),
    threadId: event.threadId,
    status: event.status,
    values,
    interrupts: pending.map(toPendingInterrupt),
    error: null,
  };
}

/**
 * readSettled, or what it was (with the failure) when Postgres could not be reached: the wait
 * reads again at its next wake, until its timeout.
 */
async function readThrough(
  ctx: ClientContext,
  runId: string,
  before: Reading,
  { hint, stop }: { hint: string | undefined; stop: AbortSignal | undefined },
): Promise<{ reading: Reading; unreachable?: unknown }> {
  try {
    return { reading: await readSettled(ctx, runId, before.threadId, hint) };
  } catch (error) {
    stop?.throwIfAborted(); // a read the stop cut short (the client closed its pool under it)
    if (!isPostgresUnreachable(error)) throw error;
    return { reading: before, unreachable: error };
  }
}

/**
 * Resolves when the run settles: `{ status, values, interrupts }`. `stop` (a stream that ends
 * early, the client's close) rejects it with the signal's reason at once.
 */
export async function waitForRun(
  ctx: ClientContext,
  hub: RunEventHub,
  runId: string,
  options: { timeoutMs?: number } = {},
  stop?: AbortSignal,
): Promise<RunResult> {
  // As runs.get: an id that names no run (undefined, a typo) finds none.
  if (!isUuid(runId)) throw new RunNotFoundError(String(runId));
  const timeoutMs = options.timeoutMs ?? 60_000;
  if (typeof timeoutMs !== "number" || Number.isNaN(timeoutMs) || timeoutMs < 0) {
    throw new InvalidInputError(
      `runs.wait: timeoutMs must be a number of milliseconds, 0 or more (Infinity waits without end); got ${typeof timeoutMs === "number" ? timeoutMs : JSON.stringify(timeoutMs)}.`,
    );
  }
  const deadline = Date.now() + timeoutMs;
  let wake: (event: Announced | undefined) => void = () => {};
  const nextWake = () =>
    new Promise<Announced | undefined>((resolve) => {
      wake = resolve;
    });
  // Made before each read (and before listening): an event that arrives meanwhile is not lost.
  let woken = nextWake();
  // Events name runs as Postgres spells ids: in lower case.
  const listening = hub.listen(runId.toLowerCase(), (event) => wake(event));
  const stopped = () => wake(undefined);
  stop?.addEventListener("abort", stopped, { once: true });
  // A run this client created, every event of which reached the hub: nothing to read until
  // one announces it settled (the safety recheck still reads after a while).
  const heard = hub.heard(runId.toLowerCase());
  try {
    await within(listening.ready, Math.min(timeoutMs, SUBSCRIBE_WAIT_MS));
    let reading: Reading = { result: undefined, threadId: heard?.threadId };
    let hint = heard?.status;
    let read = heard === undefined || hint !== undefined;
    // Postgres away (a restart, a failover): the wait goes on until its timeout, reading again.
    let unreachable: unknown;
    for (;;) {
      stop?.throwIfAborted();
      if (read) ({ reading, unreachable } = await readThrough(ctx, runId, reading, { hint, stop }));
      if (reading.result !== undefined) return reading.result;
      const left = deadline - Date.now();
      if (left <= 0) {
        if (unreachable !== undefined) throw unreachable;
        if (read) throw new WaitTimeoutError(runId, timeoutMs);
        read = true; // out of time before any read (an event may be on its way): Postgres answers once
        continue;
      }
      read = true;
      const event = await within(woken, Math.min(left, SAFETY_RECHECK_MS));
      const announced = announcedResult(ctx, runId, event);
      if (announced !== undefined) return announced;
      hint = event?.status;
      woken = nextWake();
    }
  } finally {
    listening.stop();
    stop?.removeEventListener("abort", stopped);
  }
}
