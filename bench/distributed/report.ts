import { describeCpu } from "../support/cpu.ts";
import { table, upTo } from "../support/table.ts";
import type { CaseResult } from "./measure.ts";

/** The targets, checked against Layover's figures. */
export function targetChecks(
  results: readonly CaseResult[],
): Array<{ target: string; value: string; met: boolean }> {
  const layover = (name: CaseResult["case"]) => results.find((r) => r.case === name)?.results[0];
  const checks: Array<{ target: string; value: string; met: boolean }> = [];
  const linear = layover("linear");
  if (linear)
    checks.push({
      target: "linear ≥ 2,000 supersteps/s",
      value: upTo(linear.superstepsPerSec, 0),
      met: linear.superstepsPerSec >= 2000,
    });
  const roundTrip = layover("round trip");
  if (roundTrip)
    checks.push({
      target: "round trips ≥ 500/s",
      value: upTo(roundTrip.opsPerSec, 0),
      met: roundTrip.opsPerSec >= 500,
    });
  const sequential = layover("round trip, sequential");
  if (sequential)
    checks.push({
      target: "sequential round-trip p50 < 10 ms",
      value: `${upTo(sequential.p50Ms, 2)} ms`,
      met: sequential.p50Ms < 10,
    });
  return checks;
}

/** The results as a plain-text table: one line per case and engine, the ratios, the targets. */
export function formatTable(results: readonly CaseResult[], settingsLine: string): string {
  const header = [
    "case",
    "engine",
    "in flight",
    "ops/s",
    "supersteps/s",
    "p50 ms",
    "p99 ms",
    "Layover/LangGraph",
  ];
  const lines: string[][] = [];
  for (const result of results) {
    result.results.forEach((engine, i) => {
      lines.push([
        i === 0 ? result.case : "",
        engine.engine,
        i === 0 ? String(result.inFlight) : "",
        upTo(engine.opsPerSec, 0),
        upTo(engine.superstepsPerSec, 0),
        upTo(engine.p50Ms, 2),
        upTo(engine.p99Ms, 2),
        i === 0 ? `${upTo(result.ratio, 2)}×` : "",
      ]);
    });
  }
  const legend = results.map(
    (result) =>
      `  ${result.case}: ${result.describe}; p50/p99: ${result.latency}; ${result.supersteps} supersteps per op`,
  );
  const latency = results.map(
    (result) => `  ${result.case}: LangGraph.js p50 ÷ Layover p50 = ${upTo(result.latencyRatio, 2)}×`,
  );
  const cpu = results.flatMap((result) =>
    result.results.map((engine) => {
      return `  ${result.case}, ${engine.engine}: ${describeCpu(engine.cpuMsPerOp ?? {})}`;
    }),
  );
  const checks = targetChecks(results).map(
    (check) => `  ${check.met ? "met   " : "missed"}  ${check.target}: ${check.value}`,
  );
  return [
    ...table(header, lines, 2),
    "",
    "ops/s and Layover/LangGraph are medians over rounds; p50/p99 over every op of every kept round.",
    ...legend,
    "",
    "latency:",
    ...latency,
    "",
    ...(results.some((result) => result.results.some((engine) => engine.cpuMsPerOp))
      ? [
          "CPU ms per op, by process (pg …: the Postgres backends serving it; redis: the whole server):",
          ...cpu,
          "",
        ]
      : []),
    "targets (Layover):",
    ...checks,
    "",
    settingsLine,
    "",
  ].join("\n");
}

/** The results as JSON, with the environment and settings they were measured with. */
export function formatJson(results: readonly CaseResult[], settings: Record<string, unknown>): string {
  return JSON.stringify(
    {
      date: new Date().toISOString(),
      node: process.version,
      platform: `${process.platform} ${process.arch}`,
      settings,
      cases: results,
      targets: targetChecks(results),
    },
    null,
    2,
  );
}
