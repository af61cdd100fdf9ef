// The next tick of a cron across DST changes (cron-next.ts), as BullMQ's job schedulers ask for it
// just after each tick: a time the clock repeats ticks once, "every hour" ticks in every real hour.
import { describe, expect, it } from "vitest";
import { nextCronMillis } from "./cron-next.ts";

const next = (after: string, pattern: string, tz: string) =>
  new Date(nextCronMillis(Date.parse(after) + 50, { pattern, tz }) as number).toISOString();

describe("nextCronMillis on the day the clock goes back", () => {
  it("ticks a daily 02:30 once in Antarctica/Troll, whose clock repeats 01:00–02:59 (a two-hour change)", () => {
    // 02:30 at +02 on 26 October 2025, then 02:30 again at +00: the next tick is the 27th's.
    expect(next("2025-10-26T00:30:00Z", "30 2 * * *", "Antarctica/Troll")).toBe("2025-10-27T02:30:00.000Z");
  });

  it("ticks a daily 02:30 once in Europe/Berlin (a one-hour change)", () => {
    expect(next("2025-10-26T00:30:00Z", "30 2 * * *", "Europe/Berlin")).toBe("2025-10-27T01:30:00.000Z");
  });

  it("ticks every real hour for 0 * * * *, the repeated one too", () => {
    // 02:00 CEST (00:00Z), then 02:00 CET (01:00Z).
    expect(next("2025-10-26T00:00:00Z", "0 * * * *", "Europe/Berlin")).toBe("2025-10-26T01:00:00.000Z");
    // Troll: 02:00 at +02 (00:00Z), then 01:00 at +00 (01:00Z), 02:00 at +00 (02:00Z).
    expect(next("2025-10-26T00:00:00Z", "0 * * * *", "Antarctica/Troll")).toBe("2025-10-26T01:00:00.000Z");
    expect(next("2025-10-26T01:00:00Z", "0 * * * *", "Antarctica/Troll")).toBe("2025-10-26T02:00:00.000Z");
  });
});
