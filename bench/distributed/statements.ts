// Counts the Postgres statements one op costs, by side (producer client, worker) and by
// statement: `pnpm --filter @layover/bench run statements`. Worker and client run in
// this process (one worker), one op at a time, so every statement is the op's.
// `BENCH_IN_FLIGHT=50` keeps 50 ops in flight (worker concurrency 8, as the distributed
// benchmark's workers): reads asked at the same moment then share statements.
// `BENCH_BUDGET_STEPS=1` gives each job one superstep (as an LLM-bound agent's jobs have).
import { createClient } from "@layover/runtime";
import { createTestSchema, getRedis, uniqueRedisPrefix } from "@layover/testing";
import { createWorker } from "@layover/worker";
import pg from "pg";
import pino from "pino";
import { APPROVAL_ANSWER, APPROVAL_ID, APPROVAL_INPUT, LINEAR_ID, LINEAR_INPUT } from "./graphs.ts";
import { graphs } from "./worker-graphs.ts";

type Side = "client" | "worker";
const counts = new Map<string, number>();
let side: Side | undefined;

/** A prepared statement's name without its schema hash, or an unnamed one's first words. */
function label(text: string): string {
  const named = /^layover_([a-z_]+)_[0-9a-f]{12}$/.exec(text);
  return named
    ? (named[1] as string)
    : text
        .replace(/\s+/g, " ")
        .replace(/"[^"]+"\./g, "")
        .slice(0, 70);
}

function wrapQuery(): void {
  const original = pg.Client.prototype.query as (...args: unknown[]) => unknown;
  pg.Client.prototype.query = function (this: pg.Client, ...args: unknown[]) {
    const config = args[0] as string | { text: string; name?: string };
    const text = typeof config === "string" ? config : (config.name ?? config.text);
    const who = (this as unknown as { connectionParameters: { application_name?: string } })
      .connectionParameters.application_name;
    if (side !== undefined && (who === "client" || who === "worker")) {
      const key = `${who}\t${label(text)}`;
      counts.set(key, (counts.get(key) ?? 0) + 1);
    }
    return original.apply(this, args);
  } as typeof pg.Client.prototype.query;
}

const round = (n: number) => Math.round(n * 100) / 100;

function report(name: string, ops: number): void {
  const rows = [...counts].sort((a, b) => b[1] - a[1]);
  const total = (who: Side) =>
    rows.filter(([k]) => k.startsWith(who)).reduce((sum, [, n]) => sum + n, 0) / ops;
  console.log(
    `\n${name}: ${round(total("client") + total("worker"))} statements per op (client ${round(total("client"))}, worker ${round(total("worker"))})`,
  );
  for (const [key, n] of rows) console.log(`  ${(n / ops).toFixed(2).padStart(6)}  ${key}`);
  counts.clear();
}

async function main(): Promise<void> {
  const inFlight = Math.max(1, Number(process.env.BENCH_IN_FLIGHT ?? 1));
  const ops = Math.max(20, inFlight * 4);
  const schema = await createTestSchema("bench_statements");
  const redisUrl = await getRedis();
  const prefix = uniqueRedisPrefix("bench-statements");
  const url = (app: string) => `${schema.url}${schema.url.includes("?") ? "&" : "?"}application_name=${app}`;
  wrapQuery();
  const worker = createWorker({
    graphs,
    databaseUrl: url("worker"),
    redisUrl,
    schema: schema.name,
    prefix,
    concurrency: inFlight > 1 ? 8 : 1,
    budget: { steps: Math.max(1, Number(process.env.BENCH_BUDGET_STEPS ?? 16)), ms: 60_000 },
    logger: pino({ level: "warn" }),
  });
  await worker.start();
  const client = createClient({ databaseUrl: url("client"), redisUrl, schema: schema.name, prefix });
  try {
    for (const [name, op] of [
      [
        "linear",
        async () => {
          const { runId } = await client.runs.start({ graphId: LINEAR_ID, input: LINEAR_INPUT });
          await client.runs.wait(runId);
        },
      ],
      [
        "round trip",
        async () => {
          const { runId, threadId } = await client.runs.start({
            graphId: APPROVAL_ID,
            input: APPROVAL_INPUT,
          });
          await client.runs.wait(runId);
          const resumed = await client.threads.resume(threadId, APPROVAL_ANSWER);
          await client.runs.wait(resumed.runId);
        },
      ],
    ] as const) {
      await op(); // warm-up: the first op also registers prepared statements
      side = "client";
      let started = 0;
      await Promise.all(
        Array.from({ length: inFlight }, async () => {
          while (started < ops) {
            started += 1;
            await op();
          }
        }),
      );
      side = undefined;
      report(name, ops);
    }
  } finally {
    await client.close();
    await worker.close();
    await schema.drop();
  }
}

await main();
