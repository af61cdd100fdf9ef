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
import { isLayoverError } from "@layover/graph";
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
import {
  type Flags,
  listQuery,
  MAX_LIMIT,
  parseCommand,
  pruneQuery,
  refuse,
  resumeValue,
  USAGE,
} from "./admin-args.ts";
import { noWorkerWarning, workersListening } from "./admin-workers.ts";

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

/**
 * `text` as the terminal shows it: JSON-quoted when it holds a control character (a newline, an
 * escape), with DEL and the C1 controls (U+009B starts an escape sequence too), which JSON keeps
 * as they are, escaped as well.
 */
function printable(text: string): string {
  return hasControlCharacter(text) ? shownSafely(JSON.stringify(text)) : text;
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
    if (flags["show-values"]) cells.push(shownSafely(JSON.stringify(i.value)));
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

async function listCrons(client: LayoverClient): Promise<void> {
  const crons = await client.crons.list();
  console.log(
    [
      "cron".padEnd(36),
      "graph".padEnd(18),
      "schedule".padEnd(16),
      "zone".padEnd(16),
      "thread".padEnd(38),
      "last run",
    ].join(" "),
  );
  for (const cron of crons)
    console.log(
      [
        cron.id.padEnd(36),
        printable(cron.graph_id).padEnd(18),
        printable(cron.schedule).padEnd(16),
        printable(cron.timezone ?? "UTC").padEnd(16),
        (cron.thread_id === null ? "(a new one per tick)" : printable(cron.thread_id)).padEnd(38),
        cron.last_started_at ? `${age(cron.last_started_at)} ago` : "never",
      ].join(" "),
    );
  if (crons.length === 0) console.log("(no crons)");
}

async function deleteCron(client: LayoverClient, id: string): Promise<void> {
  if (!(await client.crons.delete(id))) refuse(`No cron ${JSON.stringify(id)} (see "layover-admin crons").`);
  console.log(
    `deleted cron ${printable(id)}: it starts no run again, and its runs queued behind its thread's run are cancelled`,
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
    "crons",
    "delete-cron",
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
    else if (command === "crons") await listCrons(client);
    else if (command === "delete-cron") await deleteCron(client, args[0] as string);
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
