// Reading one run's Redis stream for runs.stream: blocking reads that a Redis away cannot hang,
// the entries as parts, and where the worker's end entry stands.
import type { Redis } from "ioredis";
import { decodeStreamChunk, RUN_STREAM_END, type RunStreamMode } from "../run-stream.ts";
import { within } from "../within.ts";

/** How long past its block a read may go unanswered (Redis away, a large reply) before the stream checks on the run. */
const READ_SLACK_MS = 1_000;
/** Entries per read: a reply stays under ~100 MiB even of chunks at their 1 MiB limit. */
const READ_COUNT = 100;
const MAX_U64 = 2n ** 64n - 1n;

type Entries = [id: string, fields: string[]][];

/** A stream entry id ("ms" or "ms-seq", as XADD gives them) as numbers to compare, or undefined when it is not one Redis takes. */
export function entryId(id: unknown): [bigint, bigint] | undefined {
  if (typeof id !== "string" || !/^\d{1,20}(-\d{1,20})?$/.test(id)) return undefined;
  const [ms, seq = "0"] = id.split("-");
  const parsed: [bigint, bigint] = [BigInt(ms as string), BigInt(seq)];
  return parsed[0] <= MAX_U64 && parsed[1] <= MAX_U64 ? parsed : undefined;
}

/** Whether entry `a` comes after entry `b`. */
function isAfter(a: string, b: string): boolean {
  const [x, y] = [entryId(a), entryId(b)] as [[bigint, bigint], [bigint, bigint]];
  return x[0] > y[0] || (x[0] === y[0] && x[1] > y[1]);
}

/** What one entry says: a chunk, the worker's end entry, or nothing this reader knows (skipped). */
export type Entry =
  | { id: string; end: true }
  | { id: string; end: false; event?: RunStreamMode; data?: unknown };

function entryOf([id, fields]: [string, string[]]): Entry {
  let event: string | undefined;
  let data: string | undefined;
  for (let i = 0; i + 1 < fields.length; i += 2) {
    if (fields[i] === "e") event = fields[i + 1];
    else if (fields[i] === "d") data = fields[i + 1];
  }
  if (event === RUN_STREAM_END) return { id, end: true };
  if (event === undefined || data === undefined) return { id, end: false };
  return { id, end: false, event: event as RunStreamMode, data: decodeStreamChunk(data) };
}

/**
 * Reads of `key` on `reader`, one at a time: `read` gives the entries after `cursor` (waiting up
 * to `blockMs` for some), or undefined when Redis has not answered within that and
 * READ_SLACK_MS (or `stopped` aborted): the read stays in flight and the next call waits for it.
 */
export function streamReads(reader: Redis, key: string, stopped: AbortSignal) {
  let inFlight: Promise<Entry[]> | undefined;
  let askedAt = 0;
  const read = async (cursor: string, blockMs: number): Promise<Entry[] | undefined> => {
    if (inFlight === undefined) {
      askedAt = Date.now();
      const asked = reader.xread("COUNT", READ_COUNT, "BLOCK", blockMs, "STREAMS", key, cursor) as Promise<
        [string, Entries][] | null
      >;
      inFlight = asked.then((answer) => (answer?.[0]?.[1] ?? []).map(entryOf));
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
  /** Whether the stream's last entry is the worker's end entry and `cursor` is at or past it (a reader rejoining after the end). */
  const endPassed = async (cursor: string): Promise<boolean> => {
    const last = (await within(reader.xrevrange(key, "+", "-", "COUNT", 1), READ_SLACK_MS))?.[0];
    return last !== undefined && entryOf(last).end && !isAfter(last[0], cursor);
  };
  return {
    read,
    endPassed,
    busy: () => inFlight !== undefined,
    /** How long the read in flight has gone unanswered (ms); 0 when none is. */
    unansweredFor: () => (inFlight === undefined ? 0 : Date.now() - askedAt),
  };
}
