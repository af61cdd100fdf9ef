// client.interrupts.watch ended every way an app ends one (close, break, its signal) lets go of
// what it held: an app that restarts its watch under one long-lived signal (its shutdown's) must
// not pile a listener onto that signal per watch. In-process worker on real Postgres and Redis.
import { getEventListeners } from "node:events";
import { afterAll, beforeAll, expect, it } from "vitest";
import { createHarness, type Harness, parkedApproval } from "./support/harness.ts";

let h: Harness;
let stopWorker: () => Promise<void>;
beforeAll(async () => {
  h = await createHarness("interrupt_watch_ending");
  stopWorker = await h.startWorker();
  await parkedApproval(h, "ending");
}, 60_000);
afterAll(async () => {
  await stopWorker?.();
  await h?.close();
});

it("leaves no listener on the app's signal once a watch ends, however it ended", async () => {
  const shutdown = new AbortController();
  for (let i = 0; i < 4; i++) {
    // Closed before it read anything.
    h.client.interrupts.watch({ signal: shutdown.signal }).close();
    // Closed after a delivery, the app not asking for the next one.
    const closed = h.client.interrupts.watch({ signal: shutdown.signal });
    expect((await closed.next()).done).toBe(false);
    closed.close();
    expect(await closed.next()).toEqual({ done: true, value: undefined });
    // Left by a break.
    for await (const _ of h.client.interrupts.watch({ signal: shutdown.signal })) break;
  }
  expect(getEventListeners(shutdown.signal, "abort")).toHaveLength(0);
});
