#!/usr/bin/env node
// layover-admin: what an operator needs at 3 a.m.
//   layover-admin interrupts [--graph <id>] [--older-than 15m] [--limit 50] [--show-values]
//   layover-admin approve <thread> [--value '<json>'] [--interrupt <id>]
//   layover-admin reject <thread> [--reason <text>] [--interrupt <id>]
//   layover-admin resume <thread> '<json>' [--interrupt <id>]
// Uses DATABASE_URL, REDIS_URL, LAYOVER_SCHEMA, LAYOVER_PREFIX like the services.
import { userInfo } from "node:os";
import { parseArgs } from "node:util";
import { parseDuration } from "@layover/graph";
import {
  createClient,
  isUuid,
  type LayoverClient,
  parseEnv,
  postgresTimeouts,
  ServiceEnv,
} from "@layover/runtime";
import pino from "pino";

const USAGE = `Usage:
  layover-admin interrupts [--graph <id>] [--older-than 15m] [--limit 50] [--show-values]
  layover-admin approve <thread> [--value '<json>'] [--interrupt <id>]
  layover-admin reject <thread> [--reason <text>] [--interrupt <id>]
  layover-admin resume <thread> '<json>' [--interrupt <id>]`;

type Flags = Record<string, string | boolean | undefined>;

function age(since: Date): string {
  const s = Math.round((Date.now() - since.getTime()) / 1000);
  if (s < 120) return `${s}s`;
  if (s < 7200) return `${Math.round(s / 60)}m`;
  return s < 172_800 ? `${Math.round(s / 3600)}h` : `${Math.round(s / 86_400)}d`;
}

async function listPending(client: LayoverClient, flags: Flags): Promise<void> {
  const olderThan = typeof flags["older-than"] === "string" ? parseDuration(flags["older-than"]) : undefined;
  const { interrupts } = await client.interrupts.list({
    status: "pending",
    graphId: typeof flags.graph === "string" ? flags.graph : undefined,
    olderThan: olderThan === undefined ? undefined : new Date(Date.now() - olderThan),
    limit: typeof flags.limit === "string" ? Number(flags.limit) : 50,
  });
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
      i.graphId.padEnd(18),
      i.threadId.padEnd(38),
      i.node.padEnd(14),
      i.id.padEnd(36),
    ];
    cells.push(i.deadline ? i.deadline.toISOString() : "none");
    if (flags["show-values"]) cells.push(JSON.stringify(i.value));
    console.log(cells.join(" "));
  }
  if (interrupts.length === 0) console.log("(no pending interrupts)");
}

function answerOf(command: string, positionals: string[], flags: Flags): unknown {
  if (command === "approve")
    return typeof flags.value === "string" ? JSON.parse(flags.value) : { action: "approve" };
  if (command === "reject")
    return { action: "reject", reason: typeof flags.reason === "string" ? flags.reason : "" };
  const raw = positionals[2];
  if (raw === undefined) throw new Error(`resume needs a JSON value.\n${USAGE}`);
  return JSON.parse(raw);
}

async function main(): Promise<void> {
  const { positionals, values: flags } = parseArgs({
    allowPositionals: true,
    options: {
      graph: { type: "string" },
      "older-than": { type: "string" },
      limit: { type: "string" },
      "show-values": { type: "boolean" },
      value: { type: "string" },
      reason: { type: "string" },
      interrupt: { type: "string" },
    },
  });
  const [command, threadId] = positionals;
  if (command === undefined || !["interrupts", "approve", "reject", "resume"].includes(command))
    throw new Error(USAGE);
  const env = parseEnv(ServiceEnv, process.env, "layover-admin");
  const client = createClient({
    databaseUrl: env.DATABASE_URL,
    redisUrl: env.REDIS_URL,
    timeouts: postgresTimeouts(env),
    schema: env.LAYOVER_SCHEMA,
    prefix: env.LAYOVER_PREFIX,
    identity: `operator:${userInfo().username}`,
    logger: pino({ level: "warn" }),
  });
  try {
    if (command === "interrupts") return await listPending(client, flags);
    if (threadId === undefined) throw new Error(`${command} needs a thread id.\n${USAGE}`);
    const answer = answerOf(command, positionals, flags);
    const interruptId = flags.interrupt;
    // An answer keyed by anything but an interrupt id would be taken as the answer itself.
    if (typeof interruptId === "string" && !isUuid(interruptId))
      throw new Error(
        `--interrupt takes an interrupt id (a UUID: see "layover-admin interrupts"); got "${interruptId}". Nothing was changed.`,
      );
    const value = typeof interruptId === "string" ? { [interruptId]: answer } : answer;
    const { runId } = await client.threads.resume(threadId, value);
    console.log(`resumed thread ${threadId}: run ${runId}`);
  } finally {
    await client.close();
  }
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});
