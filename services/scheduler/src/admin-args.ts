// layover-admin's command line: its commands, their flags and arguments, checked before anything
// is read or changed (a mistake changes nothing).
import { parseArgs } from "node:util";
import { isInterruptIdShaped, parseDuration } from "@layover/graph";

export const USAGE = `Usage:
  layover-admin interrupts [--graph <id>] [--older-than 15m] [--limit 50] [--show-values]
  layover-admin graphs
  layover-admin approve <thread> [--value '<json>'] [--interrupt <id>]
  layover-admin reject <thread> [--reason <text>] [--interrupt <id>]
  layover-admin resume <thread> '<json>' [--interrupt <id>]
  layover-admin cancel <run>
  layover-admin delete-thread <thread>
  layover-admin prune-threads --older-than 90d [--include-interrupted] [--limit <n>] [--dry-run]
  layover-admin clear-cache <graph>
  layover-admin crons
  layover-admin delete-cron <cron>

approve answers {"action":"approve"} (or --value's JSON); reject answers
{"action":"reject","reason":"<text>"}. For a graph whose interrupt() expects another shape, give
it with approve --value or resume. cancel cancels a run (runs.cancel); delete-thread refuses a
thread while a run of it is pending or running, naming the run: cancel it, and delete the thread
once the run's job has handed it on. prune-threads deletes the threads finished or failed (and
with --include-interrupted, waiting for a person) that nothing touched for that long, with their
runs, interrupts and checkpoints; a thread in use or a cron's stays; --dry-run only counts them.
graphs lists the graphs
workers registered: whether a live worker serves each, when one last did, its versions, and its
runs waiting (pending or running) — a run of a graph no live worker serves waits for one.
clear-cache forgets what the graph's nodes and tasks with a cachePolicy keep in the node cache
(after a deploy that changed what one writes); other graphs' entries are kept. crons lists the
crons (crons.create's); delete-cron deletes one (crons.delete): its runs queued behind its
thread's run are cancelled, and a thread only it used is given back.`;

/** Each command's positionals after its name, and the flags it takes. */
const COMMANDS: Record<string, { positionals: readonly string[]; flags: readonly string[] }> = {
  interrupts: { positionals: [], flags: ["graph", "older-than", "limit", "show-values"] },
  graphs: { positionals: [], flags: [] },
  approve: { positionals: ["a thread id"], flags: ["value", "interrupt"] },
  reject: { positionals: ["a thread id"], flags: ["reason", "interrupt"] },
  resume: { positionals: ["a thread id", "a JSON value"], flags: ["interrupt"] },
  cancel: { positionals: ["a run id"], flags: [] },
  "delete-thread": { positionals: ["a thread id"], flags: [] },
  "prune-threads": { positionals: [], flags: ["older-than", "include-interrupted", "limit", "dry-run"] },
  "clear-cache": { positionals: ["a graph id"], flags: [] },
  crons: { positionals: [], flags: [] },
  "delete-cron": { positionals: ["a cron id"], flags: [] },
};

/** A mistake on the command line: nothing was changed. */
export function refuse(problem: string): never {
  throw new Error(`${problem} Nothing was changed.\n\n${USAGE}`);
}

/** The command and its arguments, checked before anything is read or changed. */
export function parseCommand(argv: string[]): { command: string; args: string[]; flags: Flags } {
  let parsed: ReturnType<typeof parseArgs<{ allowPositionals: true; options: typeof OPTIONS; tokens: true }>>;
  try {
    parsed = parseArgs({ args: argv, allowPositionals: true, options: OPTIONS, tokens: true });
  } catch (error) {
    refuse(`${(error as Error).message}.`);
  }
  // parseArgs keeps a repeated flag's last value: a cron line's `--older-than 90d $EXTRA` pruned by $EXTRA's.
  const given = (parsed.tokens ?? []).flatMap((token) => (token.kind === "option" ? [token.name] : []));
  const twice = given.find((name, i) => given.indexOf(name) !== i);
  if (twice !== undefined) refuse(`--${twice} is given twice; give it once.`);
  const [command, ...args] = parsed.positionals;
  const spec = command === undefined ? undefined : COMMANDS[command];
  if (command === undefined) refuse("layover-admin needs a command.");
  if (spec === undefined) refuse(`Unknown command ${JSON.stringify(command)}.`);
  const missing = spec.positionals[args.length];
  if (missing !== undefined) refuse(`${command} needs ${missing}.`);
  if (args.length > spec.positionals.length)
    refuse(
      `${command} takes ${spec.positionals.join(" and ") || "no arguments"}; unexpected ${JSON.stringify(args[spec.positionals.length])}` +
        (command === "approve" ? " (an answer of your own goes in --value)." : " (quote text with spaces)."),
    );
  for (const flag of Object.keys(parsed.values))
    if (!spec.flags.includes(flag)) refuse(`--${flag} does not apply to ${command}.`);
  return { command, args, flags: parsed.values };
}

const OPTIONS = {
  graph: { type: "string" },
  "older-than": { type: "string" },
  limit: { type: "string" },
  "show-values": { type: "boolean" },
  value: { type: "string" },
  reason: { type: "string" },
  interrupt: { type: "string" },
  "include-interrupted": { type: "boolean" },
  "dry-run": { type: "boolean" },
} as const;

function jsonArgument(raw: string, what: string): unknown {
  try {
    return JSON.parse(raw);
  } catch (error) {
    refuse(
      `${what} is not JSON (${(error as Error).message}); a string needs JSON's quotes inside the shell's: '"yes"'.`,
    );
  }
}

/** Digits as their number (NaN otherwise): Number() would take "0x10", "1e2" and " 5 " too. */
function wholeNumber(text: string): number {
  return /^\d+$/.test(text) ? Number(text) : Number.NaN;
}

/** At most this many interrupts in one listing: the client's own page size limit. */
export const MAX_LIMIT = 1_000;

/** --older-than as the date that long ago; undefined when not given. */
function olderThanFlag(flags: Flags): Date | undefined {
  const olderThan = flags["older-than"];
  if (typeof olderThan !== "string") return undefined;
  try {
    return new Date(Date.now() - parseDuration(olderThan));
  } catch {
    refuse(`--older-than takes a duration such as 90s, 15m, 2h or 1d; got ${JSON.stringify(olderThan)}.`);
  }
}

export function listQuery(flags: Flags) {
  const olderThan = olderThanFlag(flags);
  const limit = typeof flags.limit === "string" ? wholeNumber(flags.limit) : 50;
  if (!Number.isSafeInteger(limit) || limit < 1 || limit > MAX_LIMIT)
    refuse(`--limit takes a whole number from 1 to ${MAX_LIMIT}; got ${JSON.stringify(flags.limit)}.`);
  return {
    status: "pending" as const,
    graphId: typeof flags.graph === "string" ? flags.graph : undefined,
    olderThan,
    limit,
  };
}

export function pruneQuery(flags: Flags) {
  const olderThan = olderThanFlag(flags);
  if (olderThan === undefined)
    refuse("prune-threads needs --older-than: threads nothing touched for that long go.");
  const limit = typeof flags.limit === "string" ? wholeNumber(flags.limit) : undefined;
  if (limit !== undefined && !(Number.isSafeInteger(limit) && limit > 0))
    refuse(`--limit takes a whole number above 0; got ${JSON.stringify(flags.limit)}.`);
  const statuses = flags["include-interrupted"]
    ? (["idle", "error", "interrupted"] as const)
    : (["idle", "error"] as const);
  return {
    olderThan,
    statuses,
    dryRun: flags["dry-run"] === true,
    ...(limit === undefined ? {} : { limit }),
  };
}

export type Flags = Record<string, string | boolean | undefined>;

function answerOf(command: string, args: string[], flags: Flags): unknown {
  if (command === "approve")
    return typeof flags.value === "string" ? jsonArgument(flags.value, "--value") : { action: "approve" };
  if (command === "reject")
    return { action: "reject", reason: typeof flags.reason === "string" ? flags.reason : "" };
  return jsonArgument(args[1] as string, "The value to resume with");
}

/** The answer, keyed by --interrupt's id when one is named. */
export function resumeValue(command: string, args: string[], flags: Flags): unknown {
  const answer = answerOf(command, args, flags);
  const interruptId = flags.interrupt;
  if (typeof interruptId !== "string") return answer;
  // An answer keyed by anything but an interrupt id would be taken as the answer itself.
  if (!isInterruptIdShaped(interruptId))
    refuse(
      `--interrupt takes an interrupt id (a UUID: see "layover-admin interrupts"); got "${interruptId}".`,
    );
  return { [interruptId]: answer };
}
