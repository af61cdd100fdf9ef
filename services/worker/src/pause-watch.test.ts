import { afterEach, describe, expect, it } from "vitest";
import { PauseWatch } from "./pause-watch.ts";

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
/** Holds the event loop, as a node computing without yielding (or a SIGSTOP) does. */
function standStill(ms: number): void {
  const until = performance.now() + ms;
  while (performance.now() < until) {}
}

describe("PauseWatch", () => {
  let watch: PauseWatch | undefined;
  afterEach(() => watch?.stop());

  it("says the process stood still past its threshold, at once and after its next tick", async () => {
    // A threshold far above what a busy test machine delays a tick by: the quiet checks hold.
    watch = new PauseWatch(1000);
    const before = performance.now();
    await sleep(50);
    expect(watch.stoodStillSince(before)).toBe(false);
    standStill(1100);
    // Before any tick: it stands still now.
    expect(watch.stoodStillSince(before)).toBe(true);
    await sleep(300); // a tick (every 250 ms) has come
    // After ticks: the stand-still is remembered for whoever checked before it, not after.
    expect(watch.stoodStillSince(before)).toBe(true);
    expect(watch.stoodStillSince(performance.now())).toBe(false);
  });
});
