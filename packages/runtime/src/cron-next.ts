import { getNextMillis, type RepeatOptions } from "bullmq";

const DAY_MS = 86_400_000;

const clocks = new Map<string, Intl.DateTimeFormat>();

/** How far the zone's clock is ahead of UTC at `instant` (ms). */
function offsetAt(tz: string, instant: number): number {
  let clock = clocks.get(tz);
  if (clock === undefined) {
    clock = new Intl.DateTimeFormat("en-US", {
      timeZone: tz,
      hourCycle: "h23",
      year: "numeric",
      month: "numeric",
      day: "numeric",
      hour: "numeric",
      minute: "numeric",
      second: "numeric",
    });
    clocks.set(tz, clock);
  }
  const parts = clock.formatToParts(instant);
  const part = (type: Intl.DateTimeFormatPartTypes) => Number(parts.find((p) => p.type === type)?.value);
  const shown = Date.UTC(
    part("year"),
    part("month") - 1,
    part("day"),
    part("hour"),
    part("minute"),
    part("second"),
  );
  return shown - Math.floor(instant / 1000) * 1000;
}

/**
 * The first instant after `after` at which the zone's clock shows `wall` (a time read as UTC);
 * a time a change skips is moved on by the change, as cron-parser moves one.
 */
function instantShowing(tz: string, wall: number, after: number): number {
  const before = wall - offsetAt(tz, wall - DAY_MS);
  const since = wall - offsetAt(tz, wall + DAY_MS);
  const shows = [before, since].filter((t) => t > after && t + offsetAt(tz, t) === wall);
  return shows.length > 0 ? Math.min(...shows) : before;
}

/**
 * The next tick of a cron pattern: BullMQ's job schedulers' `repeatStrategy`, and what
 * crons.create checks a schedule with. BullMQ's own (cron-parser's) goes wrong across some DST
 * changes: where a change skips midnight (Santiago, Cairo, Havana, Beirut, the Azores) a daily
 * "0 0 * * *" loses that day, and a 30-minute change (Lord Howe) can find no next tick, which
 * leaves the scheduler without one for ever. The tick is also found on the zone's wall clock
 * (the pattern read in UTC, then placed in the zone), and the earlier of the two is taken:
 * cron-parser's keeps an hour a change repeats firing twice for "0 * * * *".
 */
export function nextCronMillis(millis: number, opts: RepeatOptions): number | undefined {
  if (!opts.pattern) return getNextMillis(millis, opts);
  const tz = opts.tz ?? "UTC";
  const parsed = getNextMillis(millis, { pattern: opts.pattern, tz });
  const wall = getNextMillis(millis + offsetAt(tz, millis), { pattern: opts.pattern, tz: "UTC" });
  const placed = wall === undefined ? undefined : instantShowing(tz, wall, millis);
  // Across a change of more than an hour (Troll's two), cron-parser gives a time the clock
  // repeats again: a wall time not after the one it ticked at. Only "every hour" ticks in a
  // repeated hour.
  const repeated =
    parsed !== undefined &&
    !everyHour(opts.pattern) &&
    parsed + offsetAt(tz, parsed) <= millis + offsetAt(tz, millis);
  const ticks = [repeated ? undefined : parsed, placed].filter(
    (t): t is number => t !== undefined && t > millis,
  );
  return ticks.length > 0 ? Math.min(...ticks) : undefined;
}

/** Whether `pattern`'s hour field is "*" (its 2nd of 5 fields, 3rd of 6): it ticks in every real hour. */
function everyHour(pattern: string): boolean {
  const fields = pattern.trim().split(/\s+/);
  return fields[fields.length === 6 ? 2 : 1] === "*";
}
