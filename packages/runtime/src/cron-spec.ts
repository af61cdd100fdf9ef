// A cron as producers give it (CronSpec) and Postgres keeps it (CronRow), and the checks that
// refuse, before anything is written, one that would never tick or would tick into refusals.
import { InvalidInputError } from "@layover/graph";
import { nextCronMillis } from "./cron-next.ts";
import { InvalidConfigError } from "./errors.ts";
import { checkKey } from "./keys.ts";
import type { RunConfig } from "./sql/runs.ts";

export interface CronSpec {
  graphId: string;
  /** A cron pattern; six fields for seconds ("* * * * * *" fires every second). */
  schedule: string;
  /** IANA time zone of the schedule. @defaultValue UTC */
  timezone?: string;
  /** Every run's input: the graph's state keys (a StateGraph), or any JSON value (an entrypoint). @defaultValue {} */
  input?: unknown;
  /**
   * Run every tick on this thread, queued behind a run still going; a tick while the run it
   * queued has yet to begin starts nothing. Without it each tick starts a new thread.
   */
  threadId?: string;
  /** The config of every run it starts (`context`, `durability`, `recursionLimit`), as `runs.start` takes it. */
  config?: RunConfig;
}

export interface CronRow {
  id: string;
  graph_id: string;
  schedule: string;
  timezone: string | null;
  input: unknown;
  thread_id: string | null;
  config: RunConfig | null;
  created_at: Date;
  /** When a tick of it last started a run (migrations/0024); null before its first. */
  last_started_at: Date | null;
}

/** The schedule's zone: its own, else UTC — never the zone of whichever process computes a tick. */
export function zoneOf(row: Pick<CronRow, "timezone">): string {
  return row.timezone ?? "UTC";
}

export function checkSpec(spec: CronSpec): void {
  if (typeof spec.schedule !== "string" || spec.schedule.trim().split(/\s+/).length < 5)
    throw new InvalidConfigError(
      `Invalid cron schedule ${JSON.stringify(spec.schedule) ?? "undefined"}: give a string of 5 or 6 fields, such as "*/5 * * * *"${spec.schedule?.startsWith?.("@") ? ' (macros such as "@daily" are not taken: "0 0 * * *")' : ""}.`,
    );
  checkSteps(spec.schedule);
  checkKey(spec.threadId, "A cron's threadId", "for a new thread per tick");
  if (spec.input === null)
    throw new InvalidInputError(
      "A cron's input is null: each tick starts a run, and a run starts from an input (left out, it is {}). Nothing was written.",
    );
  if (spec.timezone !== undefined)
    try {
      if (typeof spec.timezone !== "string") throw new TypeError("not a string");
      new Intl.DateTimeFormat("en-US", { timeZone: spec.timezone });
    } catch {
      throw new InvalidConfigError(
        `Unknown time zone ${JSON.stringify(spec.timezone)}: use an IANA name such as "Europe/Paris", or leave it out for UTC.`,
      );
    }
  // cron-parser draws an H field afresh each time BullMQ asks for the next tick: "H H * * *" would
  // tick at a new random time after each tick, several times a day.
  if (/H/.test(spec.schedule.replace(/THU/gi, "")))
    throw new InvalidConfigError(
      `Invalid cron schedule ${JSON.stringify(spec.schedule)}: hashed fields (H) are not supported; give the values.`,
    );
  checkFallsDue(spec.schedule, spec.timezone ?? "UTC");
}

/**
 * Refuses a pattern BullMQ would not schedule, asking it as its job schedulers do: one it cannot
 * parse, or one that never falls due (the 31st of April), which upsertJobScheduler skips without
 * an error — a cron stored, never ticking.
 */
function checkFallsDue(schedule: string, tz: string): void {
  let next: number | undefined;
  try {
    next = nextCronMillis(Date.now(), { pattern: schedule, tz });
  } catch (error) {
    throw new InvalidConfigError(
      `Invalid cron schedule ${JSON.stringify(schedule)}: ${(error as Error).message}.`,
    );
  }
  if (next === undefined)
    throw new InvalidConfigError(`Cron schedule ${JSON.stringify(schedule)} never falls due (in ${tz}).`);
}

/** The fields of a schedule of 5 (or 6, seconds first), and how many values each has. */
const FIELDS = [
  { name: "minutes", span: 60 },
  { name: "hours", span: 24 },
  { name: "days of the month", span: 31 },
  { name: "months", span: 12 },
  { name: "days of the week", span: 7 },
];

/** Refuses a step as long as its field or longer ("*\/61 * * * *"): it ticks only at the range's start. */
function checkSteps(schedule: string): void {
  const given = schedule.trim().split(/\s+/);
  const fields = given.length === 6 ? [{ name: "seconds", span: 60 }, ...FIELDS] : FIELDS;
  for (const [i, field] of fields.entries()) {
    for (const part of (given[i] ?? "").split(",")) {
      const step = /\/(\d+)$/.exec(part)?.[1];
      if (step !== undefined && Number(step) >= field.span)
        throw new InvalidConfigError(
          `Invalid cron schedule ${JSON.stringify(schedule)}: a step of ${step} in the ${field.name} field (${field.span} values) falls once, at the start of its range; give a step below ${field.span}, or the value itself.`,
        );
    }
  }
}

/** Why BullMQ would not schedule `row` (stored by an older release), undefined when it would. */
export function refusalOf(row: CronRow): Error | undefined {
  try {
    checkFallsDue(row.schedule, zoneOf(row));
    return undefined;
  } catch (error) {
    return error as Error;
  }
}
