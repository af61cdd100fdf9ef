import { InvalidInputError } from "@layover/graph";
import { isStorableId, shown } from "../keys.ts";
import { MAX_TIMER_MS } from "../service.ts";
import { FEED_START, type FeedPosition, feedAhead, feedNow, readFeed } from "../sql/interrupt-feed.ts";
import { within } from "../within.ts";
import { closable } from "./closable.ts";
import type { ClientContext } from "./context.ts";
import { listedInterrupt } from "./list-interrupts.ts";
import type { RunEventHub } from "./run-events.ts";

export interface WatchInterruptsOptions {
  /** Only this graph's interrupts. */
  graphId?: string;
  /**
   * Continue after this interrupt's `cursor` (from an earlier watch, stored by the app);
   * `undefined` (nothing stored yet) is as if left out.
   */
  after?: string | undefined;
  /**
   * Without `after`: "pending" (the default) delivers the interrupts pending now, oldest park
   * first, then each new one; "now" only those whose park commits after the watch() call.
   */
  from?: "pending" | "now";
  /** Postgres is read again at least this often, in case a park's event was lost. @defaultValue 2000 */
  pollMs?: number;
  /** Rows per read. @defaultValue 100 */
  batchSize?: number;
  /** Ends the watch. */
  signal?: AbortSignal;
}

export const WATCH_OPTIONS = [
  "graphId",
  "after",
  "from",
  "pollMs",
  "batchSize",
  "signal",
] as const satisfies readonly (keyof WatchInterruptsOptions)[];

export type WatchedInterrupt = ReturnType<typeof listedInterrupt> & {
  /** Where the feed stands once this one is handled: give it as `after` to continue from here. */
  cursor: string;
};

export type InterruptWatch = AsyncIterableIterator<WatchedInterrupt> & { close(): void };

/** How long a watch waits for its subscription before it reads anyway (Redis down: it polls). */
const SUBSCRIBE_WAIT_MS = 500;
/** The first wait for a park withheld behind an older transaction, doubling up to pollMs. */
const WITHHELD_FIRST_MS = 5;
/** At most this long between reads while a park is withheld (a long transaction elsewhere), or pollMs if shorter. */
const WITHHELD_MAX_MS = 1_000;

function encodeCursor(position: FeedPosition): string {
  return Buffer.from(JSON.stringify([position.xid, position.order, position.id])).toString("base64url");
}

/** The position a cursor names, or undefined when it is not a cursor a watch gave. */
function decodeCursor(cursor: unknown): FeedPosition | undefined {
  if (typeof cursor !== "string") return undefined;
  let parts: unknown;
  try {
    parts = JSON.parse(Buffer.from(cursor, "base64url").toString());
  } catch {
    return undefined;
  }
  if (!Array.isArray(parts) || parts.length !== 3) return undefined;
  const [xid, order, id] = parts as unknown[];
  const valid =
    typeof xid === "string" &&
    /^\d{1,20}$/.test(xid) &&
    BigInt(xid) < 2n ** 64n &&
    Number.isSafeInteger(order) &&
    (order as number) >= -1 &&
    (order as number) <= MAX_INT4 &&
    isStorableId(id);
  return valid ? { xid, order: order as number, id: id as string } : undefined;
}

/** The largest order a cursor may carry: the statement reads it as a Postgres integer. */
const MAX_INT4 = 2 ** 31 - 1;

/** The options, checked: a typed error names the field that is wrong, before anything is read. */
function checkOptions(options: WatchInterruptsOptions) {
  const refuse = (what: string): never => {
    throw new InvalidInputError(`interrupts.watch: ${what}.`);
  };
  const { graphId, after, from = "pending", pollMs = 2_000, batchSize = 100, signal } = options;
  if (graphId !== undefined && !isStorableId(graphId))
    refuse(`graphId must be a string without NUL characters; got ${shown(graphId)}`);
  const position = after === undefined ? undefined : decodeCursor(after);
  if (after !== undefined && position === undefined)
    refuse("after must be the cursor of an interrupt a watch delivered, unchanged");
  if (from !== "pending" && from !== "now") refuse(`from must be "pending" or "now"; got ${shown(from)}`);
  if (!(Number.isSafeInteger(pollMs) && pollMs >= 10 && pollMs <= MAX_TIMER_MS))
    refuse(`pollMs must be a whole number of milliseconds from 10 to ${MAX_TIMER_MS}; got ${shown(pollMs)}`);
  if (!(Number.isSafeInteger(batchSize) && batchSize >= 1 && batchSize <= 1_000))
    refuse(`batchSize must be a whole number from 1 to 1000; got ${shown(batchSize)}`);
  if (signal !== undefined && !(signal instanceof AbortSignal))
    refuse(`signal must be an AbortSignal; got ${shown(signal)}`);
  return { graphId, position, from, pollMs, batchSize };
}

/**
 * The interrupts threads wait for, each delivered once it is pending, in the order their parks
 * committed (a park's own questions in the order asked), from `after` or from the start of what
 * is pending. Delivery is at least once: store an interrupt's `cursor` once it is handled, and
 * continue from it. An interrupt answered, expired or cancelled before the watch reads it is not
 * delivered. A read that fails ends the watch with its error; start again from the last cursor.
 */
export function watchInterrupts(
  ctx: ClientContext,
  hub: RunEventHub,
  options: WatchInterruptsOptions = {},
  closing?: AbortSignal,
): InterruptWatch {
  const checked = checkOptions(options);
  // "Now" is this call, not the first read: a question parked in between is after it.
  const now = checked.position === undefined && checked.from === "now" ? feedNow(ctx.db) : undefined;
  now?.catch(() => undefined); // seen by the watch's first read, if it has one
  // The client's close (`closing`) ends its open watches too, as it ends its streams.
  const signals = [options.signal, closing].filter((signal) => signal !== undefined);
  const signal = signals.length > 1 ? AbortSignal.any(signals) : signals[0];
  return closable(signal, (stopped) => watching(ctx, hub, { ...checked, now }, stopped));
}

async function* watching(
  ctx: ClientContext,
  hub: RunEventHub,
  options: ReturnType<typeof checkOptions> & { now: ReturnType<typeof feedNow> | undefined },
  stopped: AbortSignal,
): AsyncGenerator<WatchedInterrupt> {
  let woken = false;
  let wakeUp = () => {};
  const wake = () => {
    woken = true;
    wakeUp();
  };
  const listener = hub.listenParks(wake, options.graphId);
  stopped.addEventListener("abort", wake, { once: true });
  try {
    // Listening before the first read: a park committed in between wakes the next one.
    await within(
      listener.ready.catch(() => undefined),
      SUBSCRIBE_WAIT_MS,
    );
    if (options.position !== undefined && (await feedAhead(ctx.db, options.position)))
      throw new InvalidInputError(
        "interrupts.watch: after is the cursor of a park this Postgres never ran (its transaction id is ahead of the server's: a cursor kept from before a restore into another cluster?). " +
          'Watch again without it (from: "pending" delivers every question waiting now). Nothing was read.',
      );
    const now = options.now === undefined || stopped.aborted ? undefined : await options.now;
    const since = now?.since;
    let position = options.position ?? now?.position ?? FEED_START;
    let withheldMs = WITHHELD_FIRST_MS;
    while (!stopped.aborted) {
      woken = false;
      const read = await readFeed(ctx.db, position, options.batchSize, { graphId: options.graphId, since });
      for (const row of read.rows) {
        if (stopped.aborted) return;
        position = row.position;
        yield { ...listedInterrupt(row), cursor: encodeCursor(row.position) };
      }
      if (read.full || woken) continue;
      // A park withheld behind an older transaction is read again soon: transactions here are short.
      const delay = read.withheld ? withheldMs : options.pollMs;
      withheldMs = read.withheld
        ? Math.min(withheldMs * 2, WITHHELD_MAX_MS, options.pollMs)
        : WITHHELD_FIRST_MS;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, delay);
        wakeUp = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      wakeUp = () => {};
    }
  } catch (error) {
    if (!stopped.aborted) throw error; // else the client closed its pool under a read: the watch ends
  } finally {
    listener.stop();
    stopped.removeEventListener("abort", wake);
  }
}
