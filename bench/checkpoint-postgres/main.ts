import { availableParallelism } from "node:os";
import { parseArgs } from "node:util";
import { cases } from "../engine/graphs.ts";
import { withCleanUp } from "../support/clean-up.ts";
import { ROUND_OPTIONS, roundSettings, wholeNumber } from "../support/cli.ts";
import { type GrowthResult, measureListGrowth } from "./list-growth.ts";
import { type CaseResult, measureCase } from "./measure.ts";
import { checkTargets, formatJson, formatTable } from "./report.ts";
import { setUpEngines } from "./savers.ts";
import { type BenchServer, openBenchServer } from "./server.ts";

const CASE_NAMES = ["linear", "fan-out", "interrupt", "functional", "list-growth"] as const;

const USAGE = `Usage: pnpm bench:postgres [--json] [--case linear|fan-out|interrupt|functional|list-growth] [--rounds 7]
         [--warmup 2] [--batch-ms 700] [--growth-steps 100,500] [--growth-runs 2] [--pool 10]

Runs the engine benchmark's graphs with Layover + @layover/checkpoint-postgres and with
LangGraph.js + @langchain/langgraph-checkpoint-postgres against the same Postgres (a database
created for the run, one schema per saver), alternating the engines over several rounds, and
prints runs/s, supersteps/s, p50/p99, bytes written, commits and statements per run, with the
Layover/LangGraph ratios; then the list-growth case (bytes stored for N supersteps of a list
growing by one 100-character item each) and the issue's targets. --json prints JSON instead.
The database comes from DATABASE_URL, else testcontainers, else postgres://postgres@127.0.0.1:5432.`;

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      ...ROUND_OPTIONS,
      "growth-steps": { type: "string" },
      "growth-runs": { type: "string" },
      pool: { type: "string" },
    },
  });
  if (values.help) {
    console.log(USAGE);
    return;
  }
  const settings = {
    ...roundSettings(values, 700),
    minRuns: 20,
    growthSteps: (values["growth-steps"] ?? "100,500")
      .split(",")
      .map((step) => Math.max(1, wholeNumber(step.trim(), "growth-steps", 0))),
    growthRuns: Math.max(1, wholeNumber(values["growth-runs"], "growth-runs", 2)),
    poolSize: Math.max(1, wholeNumber(values.pool, "pool", 10)),
  };
  const selected = values.case ?? [...CASE_NAMES];
  const unknown = selected.filter((name) => !(CASE_NAMES as readonly string[]).includes(name));
  if (unknown.length > 0) throw new Error(`Unknown case ${unknown.join(", ")}. ${USAGE}`);
  const log = values.json ? () => {} : (line: string) => process.stderr.write(`${line}\n`);

  const server = await openBenchServer(log);
  await withCleanUp(
    () => server.close(),
    () => run(server, settings, selected, values.json ?? false, log),
  );
}

async function run(
  server: BenchServer,
  settings: {
    rounds: number;
    warmupRounds: number;
    batchMs: number;
    minRuns: number;
    growthSteps: number[];
    growthRuns: number;
    poolSize: number;
  },
  selected: readonly string[],
  json: boolean,
  log: (line: string) => void,
): Promise<void> {
  const targets = await setUpEngines(server, settings.poolSize);
  try {
    log(
      `Node ${process.version}, ${availableParallelism()} cores, Postgres ${server.version} ` +
        `(database ${server.database}${server.ownDatabase ? ", created for this run" : ", shared"}); ` +
        `${settings.rounds} rounds of ~${settings.batchMs} ms per engine after ${settings.warmupRounds} warm-up rounds.`,
    );
    const probes = [await server.probeLatency()];
    const results: CaseResult[] = [];
    for (const benchCase of cases.filter((c) => selected.includes(c.name))) {
      log(`measuring ${benchCase.name}…`);
      results.push(await measureCase(server, benchCase, targets, settings));
    }
    let growth: GrowthResult[] = [];
    if (selected.includes("list-growth")) {
      log("measuring list growth…");
      growth = await measureListGrowth(server, targets, settings.growthSteps, settings.growthRuns, log);
    }
    probes.push(await server.probeLatency());
    const checks = checkTargets(results, growth);
    const ms = (pick: (probe: { commitMs: number; statementMs: number }) => number) =>
      probes.map((probe) => pick(probe).toFixed(2)).join(" → ");
    const environment =
      `Postgres ${server.version}, synchronous_commit ${server.synchronousCommit}: a one-row INSERT ` +
      `committing alone took ${ms((p) => p.commitMs)} ms, a SELECT 1 ${ms((p) => p.statementMs)} ms ` +
      "(median of 30, before → after the cases).";
    const commitSource = server.ownDatabase
      ? "in a database created for the run, every backend's stats flushed at each window edge"
      : "in a shared database (other sessions' commits add noise)";
    if (json) {
      console.log(
        formatJson({
          postgres: server.version,
          synchronousCommit: server.synchronousCommit,
          latencyProbes: probes,
          database: { ownDatabase: server.ownDatabase },
          commitsMethod: `pg_stat_database.xact_commit ${commitSource}`,
          settings,
          cases: results,
          listGrowth: growth,
          targets: checks,
        }),
      );
    } else {
      console.log(`${environment}\n\n${formatTable(results, growth, checks, commitSource)}`);
    }
  } finally {
    for (const target of targets) await target.counting.end().catch(() => undefined);
  }
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? (error.stack ?? error.message) : error);
  process.exitCode = 1;
});
