import type { CaseResult } from "./measure.ts";

function fixed(value: number, digits: number): string {
  return Number.isFinite(value) ? value.toLocaleString("en-US", { maximumFractionDigits: digits }) : "n/a";
}

function row(cells: readonly string[], widths: readonly number[]): string {
  return cells
    .map((cell, i) => (i < 2 ? cell.padEnd(widths[i] ?? 0) : cell.padStart(widths[i] ?? 0)))
    .join("  ")
    .trimEnd();
}

/** The results as a plain-text table: one line per case and engine, then the ratio. */
export function formatTable(results: readonly CaseResult[]): string {
  const header = ["case", "engine", "runs/s", "supersteps/s", "p50 ms", "p99 ms", "Layover/LangGraph"];
  const lines: string[][] = [];
  for (const result of results) {
    result.results.forEach((engine, i) => {
      lines.push([
        i === 0 ? result.case : "",
        engine.engine,
        fixed(engine.runsPerSec, 0),
        fixed(engine.superstepsPerSec, 0),
        fixed(engine.p50Ms, 3),
        fixed(engine.p99Ms, 3),
        i === 0 ? `${fixed(result.ratio, 1)}×` : "",
      ]);
    });
  }
  const widths = header.map((title, i) =>
    Math.max(title.length, ...lines.map((line) => (line[i] ?? "").length)),
  );
  const legend = results.map((result) => `  ${result.case}: ${result.describe}`);
  return [row(header, widths), ...lines.map((line) => row(line, widths)), "", ...legend, ""].join("\n");
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
