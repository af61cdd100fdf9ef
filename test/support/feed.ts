// Reading interrupts.watch's feed in a test: other databases of the server run tests too, and the
// feed holds its rows back while a transaction older than them is open anywhere on the server.
import {
  type Db,
  type FeedPosition,
  type InterruptWatch,
  readFeed,
  type WatchedInterrupt,
} from "@layover/runtime";

/** The feed after `cursor` (of `graphId` if given) once none of its rows is held back; fails after 10 s. */
export async function settledRead(db: Db, cursor: FeedPosition, graphId?: string) {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const read = await readFeed(db, cursor, 100, { graphId });
    if (!read.withheld) return read;
    if (Date.now() > deadline) throw new Error("the feed held rows back for 10 s: a transaction stays open");
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** The next `n` deliveries of `watch`, which stays open (fails after 10 s). */
export async function take(watch: InterruptWatch, n: number): Promise<WatchedInterrupt[]> {
  const got: WatchedInterrupt[] = [];
  const timeout = setTimeout(() => watch.close(), 10_000);
  try {
    while (got.length < n) {
      const next = await watch.next();
      if (next.done) throw new Error(`the watch delivered ${got.length} of ${n} interrupts`);
      got.push(next.value);
    }
  } finally {
    clearTimeout(timeout);
  }
  return got;
}
