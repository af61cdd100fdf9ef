import { availableParallelism, loadavg } from "node:os";
import { parseArgs } from "node:util";
import { formatJson } from "../checkpoint-postgres/report.ts";
import { type BenchServer, openBenchServer } from "../checkpoint-postgres/server.ts";
import { withCleanUp } from "../support/clean-up.ts";
import { ROUND_OPTIONS, roundSettings, wholeNumber } from "../support/cli.ts";
import { cases } from "./cases.ts";
import { DATA, seed, semanticChecks } from "./data.ts";
import { type CaseResult, type MeasureOptions, measureCase } from "./measure.ts";
import { CAVEATS, formatTable } from "./report.ts";
import { setUpStores } from "./stores.ts";

const CASE_NAMES = cases.map((c) => c.name);

const USAGE = `Usage: pnpm bench:store [--json] [--case ${CASE_NAMES.join("|")}] [--rounds 7]
         [--warmup 2] [--batch-ms 500] [--pool 10]

Runs the same store operations on Layover's PostgresStore (@layover/checkpoint-postgres) and on
LangGraph.js's (@langchain/langgraph-checkpoint-postgres/store) against the same Postgres (a
database created for the run, one schema per store, both seeded with the same ${DATA.users * DATA.itemsPerUser}
items), alternating the stores over several rounds, and prints ops/s (median over rounds),
p50/p99 latency, statements per op and the Layover/LangGraph ratio. --json prints JSON instead.
The database comes from DATABASE_URL, else testcontainers, else postgres://postgres@127.0.0.1:5432.`;

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { ...ROUND_OPTIONS, pool: { type: "string" } } });
  if (values.help) {
    console.log(USAGE);
    return;
  }
  const settings = {
    ...roundSettings(values, 500),
    minOps: 20,
    poolSize: Math.max(1, wholeNumber(values.pool, "pool", 10)),
  };
  const selected = values.case ?? CASE_NAMES;
  const unknown = selected.filter((name) => !(CASE_NAMES as readonly string[]).includes(name));
  if (unknown.length > 0) throw new Error(`Unknown case ${unknown.join(", ")}. ${USAGE}`);
  const json = values.json ?? false;
  const log = json ? () => {} : (line: string) => process.stderr.write(`${line}\n`);

  const server = await openBenchServer(log);
  await withCleanUp(
    () => server.close(),
    () => run(server, settings, selected, json, log),
  );
}

async function run(
  server: BenchServer,
  settings: MeasureOptions & { poolSize: number },
  selected: readonly string[],
  json: boolean,
  log: (line: string) => void,
): Promise<void> {
  const targets = await setUpStores(server, settings.poolSize);
  try {
    log(
      `Node ${process.version}, ${availableParallelism()} cores, load average ${loadavg()[0]?.toFixed(1)}, ` +
        `Postgres ${server.version} (database ${server.database}${server.ownDatabase ? ", created for this run" : ", shared"}); ` +
        `${settings.rounds} rounds of ~${settings.batchMs} ms per store after ${settings.warmupRounds} warm-up rounds.`,
    );
    log(`seeding ${DATA.users * DATA.itemsPerUser} items into each store…`);
    for (const target of targets) await seed(target, server.url);
    const checks = await semanticChecks(targets);
    const results: CaseResult[] = [];
    for (const storeCase of cases.filter((c) => selected.includes(c.name))) {
      log(`measuring ${storeCase.name}…`);
      results.push(await measureCase(storeCase, targets, settings));
    }
    if (json) {
      console.log(
        formatJson({
          postgres: server.version,
          synchronousCommit: server.synchronousCommit,
          settings,
          data: DATA,
          cases: results,
          semanticChecks: checks,
          caveats: CAVEATS,
        }),
      );
    } else {
      console.log(
        `Postgres ${server.version}, synchronous_commit ${server.synchronousCommit}, pool ${settings.poolSize} per store\n\n` +
          formatTable(results, checks),
      );
    }
  } finally {
    for (const target of targets) await target.close().catch(() => undefined);
  }
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? (error.stack ?? error.message) : error);
  process.exitCode = 1;
});
