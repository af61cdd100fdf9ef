import { availableParallelism } from "node:os";
import { parseArgs } from "node:util";
import { ROUND_OPTIONS, roundSettings } from "../support/cli.ts";
import { cases, engines } from "./graphs.ts";
import { type CaseResult, measureCase } from "./measure.ts";
import { formatJson, formatTable } from "./report.ts";

const USAGE = `Usage: pnpm bench:engine [--json] [--case linear|fan-out|interrupt|functional|cached] [--rounds 7] [--warmup 2] [--batch-ms 400]

Runs each case on Layover and on LangGraph.js (each with its own MemorySaver) in this process,
alternating the engines over several rounds, and prints runs/s, supersteps/s, p50/p99 per run
and the Layover/LangGraph ratio (medians over rounds). --json prints JSON instead of the table.`;

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      ...ROUND_OPTIONS,
    },
  });
  if (values.help) {
    console.log(USAGE);
    return;
  }
  const settings = {
    ...roundSettings(values, 400),
    minRuns: 20,
  };
  const selected = values.case ?? cases.map((c) => c.name);
  const unknown = selected.filter((name) => !cases.some((c) => c.name === name));
  if (unknown.length > 0) throw new Error(`Unknown case ${unknown.join(", ")}. ${USAGE}`);
  const log = values.json ? () => {} : (line: string) => process.stderr.write(`${line}\n`);
  log(
    `Node ${process.version}, ${availableParallelism()} cores; ${settings.rounds} rounds of ~${settings.batchMs} ms per engine after ${settings.warmupRounds} warm-up rounds.`,
  );
  const results: CaseResult[] = [];
  for (const benchCase of cases.filter((c) => selected.includes(c.name))) {
    log(`measuring ${benchCase.name}…`);
    results.push(await measureCase(benchCase, engines, settings));
  }
  console.log(values.json ? formatJson(results, settings) : formatTable(results));
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exitCode = 1;
});
