// The soak's stream readers. A story the seed picks gives its starts and resumes a streamMode,
// and reads each run they are told of to its end alongside the story (as a browser would, from
// another process in production); some drop the stream after a part or three and rejoin with
// the last part's id (a reconnecting browser's Last-Event-ID), from the other client. What each
// read saw goes to the ledger for invariant 8 (stream-check.ts).
import type { LayoverClient, RunStreamPart } from "@layover/runtime";
import { errorCode, type Ledger, type SeenPart, type StreamMode, type StreamRead } from "./ledger.ts";
import type { Rng } from "./rng.ts";

/** The stream mode a story's runs ask for, or none: about two stories in five stream. */
export function pickStreamMode(rng: Rng): StreamMode | undefined {
  if (rng() >= 0.4) return undefined;
  return rng() < 0.6 ? "updates" : ["updates", "custom"];
}

/** As long as the stories wait for a run: the stream's timeoutMs. */
const STREAM_TIMEOUT_MS = 180_000;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function seen(part: RunStreamPart): SeenPart {
  const data = part.data as Record<string, unknown> | null;
  if (part.event === "custom") return { id: part.id, event: part.event, nodes: [String(data?.node)] };
  const nodes = part.event === "updates" ? Object.keys(data ?? {}).filter((k) => !k.startsWith("__")) : [];
  const cached = (data?.__metadata__ as { cached?: unknown } | undefined)?.cached === true;
  return { id: part.id, event: part.event, nodes, ...(cached ? { cached } : {}) };
}

function take(read: StreamRead, part: RunStreamPart): void {
  if (read.ends.length > 0) read.afterEnd++;
  if (part.event === "end")
    read.ends.push({ id: part.id, runId: part.data.runId, status: part.data.status, at: Date.now() });
  else read.parts.push(seen(part));
}

/**
 * Reads the stream to its end; with `dropAfter`, drops it after that many chunks (when the end
 * has not come first), waits `pauseMs`, and reads the rest from `rejoin` after the last part's id.
 */
async function readToEnd(
  read: StreamRead,
  clients: { first: LayoverClient; rejoin: LayoverClient },
  drop: { after: number; pauseMs: number } | undefined,
): Promise<void> {
  let lastEventId: string | undefined;
  let left = drop?.after;
  try {
    for (let client = clients.first; ; client = clients.rejoin) {
      const options = { timeoutMs: STREAM_TIMEOUT_MS, ...(lastEventId === undefined ? {} : { lastEventId }) };
      let dropped = false;
      for await (const part of client.runs.stream(read.runId, options)) {
        take(read, part);
        lastEventId = part.id;
        if (part.event !== "end" && left !== undefined && --left === 0) {
          dropped = true;
          break;
        }
      }
      if (!dropped) return;
      left = undefined;
      read.rejoins++;
      await sleep(drop?.pauseMs ?? 0);
    }
  } catch (error) {
    read.error = errorCode(error);
  }
}

/**
 * Starts reading run `runId`'s stream in the background (the seed picks the client, and whether
 * and where it drops and rejoins): the promise goes to `readers`, for the story to await at its end.
 */
export function follow(
  ctx: { clients: [LayoverClient, LayoverClient]; ledger: Ledger; rng: Rng; readers: Promise<void>[] },
  run: { runId: string; threadId: string; mode: StreamMode; askedAt: number },
): void {
  const read: StreamRead = { ...run, parts: [], ends: [], afterEnd: 0, rejoins: 0 };
  ctx.ledger.streams.push(read);
  const first = ctx.rng() < 0.5 ? 0 : 1;
  const drop =
    ctx.rng() < 0.3
      ? { after: 1 + Math.floor(ctx.rng() * 3), pauseMs: Math.floor(ctx.rng() * 1_000) }
      : undefined;
  const clients = {
    first: ctx.clients[first] as LayoverClient,
    rejoin: ctx.clients[1 - first] as LayoverClient,
  };
  ctx.readers.push(readToEnd(read, clients, drop));
}
