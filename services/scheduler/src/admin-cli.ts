#!/usr/bin/env node
// layover-admin: what an operator needs at 3 a.m.
//   layover-admin interrupts [--graph <id>] [--older-than 15m] [--limit 50] [--show-values]
//   layover-admin graphs
//   layover-admin approve <thread> [--value '<json>'] [--interrupt <id>]
//   layover-admin reject <thread> [--reason <text>] [--interrupt <id>]
//   layover-admin resume <thread> '<json>' [--interrupt <id>]
//   layover-admin cancel <run>
//   layover-admin delete-thread <thread>
//   layover-admin prune-threads --older-than 90d [--include-interrupted] [--limit <n>] [--dry-run]
//   layover-admin clear-cache <graph>
// Uses DATABASE_URL, REDIS_URL, LAYOVER_SCHEMA, LAYOVER_PREFIX like the services.
import { userInfo } from "node:os";
import { parseArgs } from "node:util";
import { isInterruptIdShaped, isLayoverError, parseDuration } from "@layover/graph";
import {
  createClient,
  createLogger,
  hasControlCharacter,
  type LayoverClient,
  parseEnv,
  postgresTimeouts,
  ServiceEnv,
} from "@layover/runtime";
import pino from "pino";
import { noWorkerWarning, workersListening } from "./admin-workers.ts";

const USAGE = `Usage:
  layover-admin interrupts [--graph <id>] [--older-than 15m] [--limit 50] [--show-values]
  layover-admin graphs
  layover-admin approve <thread> [--value '<json>'] [--interrupt <id>]
  layover-admin reject <thread> [--reason <text>] [--interrupt <id>]
  layover-admin resume <thread> '<json>' [--interrupt <id>]
  layover-admin cancel <run>
  layover-admin delete-thread <thread>
  layover-admin prune-threads --older-than 90d [--include-interrupted] [--limit <n>] [--dry-run]
  layover-admin clear-cache <graph>

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
(after a deploy that changed what one writes); other graphs' entries are kept.`;

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
};

/** A mistake on the command line: nothing was changed. */
function refuse(problem: string): never {
  throw new Error(`${problem} Nothing was changed.\n\n${USAGE}`);
}

/** The command and its arguments, checked before anything is read or changed. */
function parseCommand(argv: string[]): { command: string; args: string[]; flags: Flags } {
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
const MAX_LIMIT = 1_000;

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

function listQuery(flags: Flags) {
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

function pruneQuery(flags: Flags) {
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

type Flags = Record<string, string | boolean | undefined>;

function age(since: Date): string {
  const s = Math.round((Date.now() - since.getTime()) / 1000);
  if (s < 120) return `${s}s`;
  if (s < 7200) return `${Math.round(s / 60)}m`;
  return s < 172_800 ? `${Math.round(s / 3600)}h` : `${Math.round(s / 86_400)}d`;
}

/** Refuses a graph id no worker ever registered (a typo): a listing of it is empty, a clear clears nothing. */
async function requireGraph(client: LayoverClient, graphId: string | undefined): Promise<void> {
  if (graphId === undefined) return;
  const known = (await client.graphs.list()).map((graph) => graph.graphId);
  if (!known.includes(graphId))
    refuse(`No graph ${JSON.stringify(graphId)} is registered (known: ${known.join(", ") || "none"}).`);
}

/** Control characters but the newline, which a message's own lines use. */
// biome-ignore lint/suspicious/noControlCharactersInRegex: finding them is the point
const CONTROLS_BUT_NEWLINE = /[\u0000-\u0009\u000b-\u001f\u007f-\u009f]/g;

/** A message as the terminal shows it: its control characters but newlines written as escapes. */
function shownSafely(text: string): string {
  return text.replace(CONTROLS_BUT_NEWLINE, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`);
}

/** `text` as the terminal shows it: JSON-quoted when it holds a control character (a newline, an escape). */
function printable(text: string): string {
  return hasControlCharacter(text) ? JSON.stringify(text) : text;
}

async function listPending(
  client: LayoverClient,
  query: ReturnType<typeof listQuery>,
  flags: Flags,
): Promise<void> {
  await requireGraph(client, query.graphId);
  const { interrupts, nextCursor } = await client.interrupts.list(query);
  console.log(
    [
      "age".padEnd(6),
      "graph".padEnd(18),
      "thread".padEnd(38),
      "node".padEnd(14),
      "interrupt".padEnd(36),
      "deadline",
    ].join(" "),
  );
  for (const i of interrupts) {
    const cells = [
      age(i.createdAt).padEnd(6),
      printable(i.graphId).padEnd(18),
      printable(i.threadId).padEnd(38),
      printable(i.node).padEnd(14),
      i.id.padEnd(36),
    ];
    cells.push(i.deadline ? i.deadline.toISOString() : "none");
    if (flags["show-values"]) cells.push(JSON.stringify(i.value));
    console.log(cells.join(" "));
  }
  if (interrupts.length === 0) console.log("(no pending interrupts)");
  if (nextCursor)
    console.log(
      `(more are pending: these are the oldest ${interrupts.length}; narrow with --graph or --older-than, or raise --limit up to ${MAX_LIMIT})`,
    );
}

async function listGraphs(client: LayoverClient): Promise<void> {
  const graphs = await client.graphs.list();
  console.log(
    [
      "graph".padEnd(18),
      "served".padEnd(7),
      "last seen".padEnd(10),
      "versions".padEnd(14),
      "runs waiting",
      "oldest",
    ].join(" "),
  );
  for (const g of graphs) {
    const live = g.versions.filter((v) => v.live).length;
    console.log(
      [
        g.graphId.padEnd(18),
        (g.served ? "yes" : "NO").padEnd(7),
        (g.lastServedAt ? age(g.lastServedAt) : "never").padEnd(10),
        `${g.versions.length} (${live} live)`.padEnd(14),
        String(g.runsWaiting).padEnd(12),
        g.oldestWaitingAt ? age(g.oldestWaitingAt) : "-",
      ].join(" "),
    );
  }
  if (graphs.length === 0) console.log("(no graphs: no worker has started against this database and schema)");
  if (graphs.some((g) => !g.served && g.runsWaiting > 0))
    console.log(
      "(runs of a graph no live worker serves wait until a worker whose graph module has it starts)",
    );
}

function answerOf(command: string, args: string[], flags: Flags): unknown {
  if (command === "approve")
    return typeof flags.value === "string" ? jsonArgument(flags.value, "--value") : { action: "approve" };
  if (command === "reject")
    return { action: "reject", reason: typeof flags.reason === "string" ? flags.reason : "" };
  return jsonArgument(args[1] as string, "The value to resume with");
}

/** The answer, keyed by --interrupt's id when one is named. */
function resumeValue(command: string, args: string[], flags: Flags): unknown {
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

async function resume(client: LayoverClient, threadId: string, value: unknown): Promise<void> {
  try {
    const { runId } = await client.threads.resume(threadId, value);
    console.log(`resumed thread ${printable(threadId)}: run ${runId}`);
  } catch (error) {
    if (isLayoverError(error) && error.code === "AMBIGUOUS_RESUME")
      refuse(
        `Thread ${printable(threadId)} waits for more than one interrupt: name the one you answer with --interrupt <id> (see "layover-admin interrupts --show-values").`,
      );
    throw error;
  }
}

async function cancelRun(client: LayoverClient, runId: string): Promise<void> {
  const { status } = await client.runs.cancel(runId);
  console.log(
    status === "cancelled"
      ? `cancelled run ${printable(runId)} (a run that held its thread hands it on when its job stops)`
      : `run ${printable(runId)} is ${status}: nothing was changed`,
  );
}

async function deleteThread(client: LayoverClient, threadId: string): Promise<void> {
  const deleted = await client.threads.delete(threadId);
  console.log(
    `deleted thread ${printable(threadId)}: ${deleted.runs} runs, ${deleted.interrupts} interrupts, ${deleted.checkpoints} checkpoints`,
  );
}

async function pruneThreads(client: LayoverClient, query: ReturnType<typeof pruneQuery>): Promise<void> {
  const pruned = await client.threads.prune(query);
  if (query.dryRun) {
    console.log(
      `would prune ${pruned.threads} threads untouched since ${query.olderThan.toISOString()} ` +
        `(${query.statuses.join(", ")}); nothing was changed`,
    );
    return;
  }
  console.log(
    `pruned ${pruned.threads} threads untouched since ${query.olderThan.toISOString()}: ${pruned.runs} runs, ` +
      `${pruned.interrupts} interrupts, ${pruned.checkpoints} checkpoints` +
      (pruned.skipped > 0 ? `; ${pruned.skipped} left (in use, or a cron's)` : ""),
  );
}

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  if (argv[0] === "help" || argv.includes("--help") || argv.includes("-h")) {
    console.log(USAGE);
    return;
  }
  const { command, args, flags } = parseCommand(argv);
  // Checked before connecting: a mistake changes nothing.
  const query = command === "interrupts" ? listQuery(flags) : undefined;
  const prune = command === "prune-threads" ? pruneQuery(flags) : undefined;
  const answers = ![
    "interrupts",
    "graphs",
    "cancel",
    "delete-thread",
    "prune-threads",
    "clear-cache",
  ].includes(command);
  const value = answers ? resumeValue(command, args, flags) : undefined;
  const env = parseEnv(ServiceEnv, process.env, "layover-admin");
  // Warnings on stderr, redacted as the services' are: stdout is the command's answer.
  const logger = createLogger(
    { level: "warn", logPayloads: false, name: "layover-admin" },
    pino.destination(2),
  );
  const client = createClient({
    databaseUrl: env.DATABASE_URL,
    redisUrl: env.REDIS_URL,
    timeouts: postgresTimeouts(env),
    schema: env.LAYOVER_SCHEMA,
    prefix: env.LAYOVER_PREFIX,
    identity: `operator:${userInfo().username}`,
    logger,
  });
  try {
    if (query !== undefined) await listPending(client, query, flags);
    else if (command === "graphs") await listGraphs(client);
    else if (command === "delete-thread") await deleteThread(client, args[0] as string);
    else if (command === "cancel") await cancelRun(client, args[0] as string);
    else if (prune !== undefined) await pruneThreads(client, prune);
    else if (command === "clear-cache") {
      await requireGraph(client, args[0]);
      await client.graphs.clearCache(args[0] as string);
      console.log(`cleared the node cache of graph ${printable(args[0] as string)}`);
    } else {
      await resume(client, args[0] as string, value);
      // Recorded either way; enqueued where no worker looks, the run would wait unseen.
      if ((await workersListening(env.REDIS_URL, env.LAYOVER_PREFIX, logger)) === 0)
        console.error(noWorkerWarning(env.LAYOVER_PREFIX));
    }
  } finally {
    await client.close();
  }
}

main().catch((error: unknown) => {
  // A schema no worker has migrated (LAYOVER_SCHEMA mistyped): say so, not "relation … does not
  // exist" (the client's InvalidConfigError for it carries Postgres's error as its cause).
  const { code, cause } = error as { code?: unknown; cause?: { code?: unknown } };
  if (code === "42P01" || (code === "INVALID_CONFIG" && cause?.code === "42P01"))
    console.error(
      `No Layover tables in schema "${process.env.LAYOVER_SCHEMA || "layover"}": check LAYOVER_SCHEMA ` +
        "(a worker or scheduler creates them when it starts). Nothing was changed.",
    );
  // What others wrote (thread ids, who answered) may be in it: shown, not acted on by the terminal.
  else console.error(shownSafely(error instanceof Error ? error.message : String(error)));
  process.exit(1);
});
