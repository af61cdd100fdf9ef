import { table, upTo } from "../support/table.ts";
import type { CaseResult } from "./measure.ts";

/** The results as a plain-text table: one line per case and engine, then the ratio. */
export function formatTable(results: readonly CaseResult[]): string {
  const header = ["case", "engine", "runs/s", "supersteps/s", "p50 ms", "p99 ms", "Layover/LangGraph"];
  const lines: string[][] = [];
  for (const result of results) {
    result.results.forEach((engine, i) => {
      lines.push([
        i === 0 ? result.case : "",
        engine.engine,
        upTo(engine.runsPerSec, 0),
        upTo(engine.superstepsPerSec, 0),
        upTo(engine.p50Ms, 3),
        upTo(engine.p99Ms, 3),
        i === 0 ? `${upTo(result.ratio, 1)}×` : "",
      ]);
    });
  }
  const legend = results.map((result) => `  ${result.case}: ${result.describe}`);
  return [...table(header, lines, 2), "", ...legend, ""].join("\n");
}

/** The results as JSON, with the environment they were measured in. */
export function formatJson(results: readonly CaseResult[], settings: Record<string, unknown>): string {
  return JSON.stringify(
    {
      date: new Date().toISOString(),
      node: process.version,
      platform: `${process.platform} ${process.arch}`,
      settings,
      cases: results,
    },
    null,
    2,
  );
}
