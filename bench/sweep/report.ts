import { availableParallelism } from "node:os";
import { describeCpu } from "../support/cpu.ts";
import type { Plans, SweepResult } from "./phases.ts";

export interface SweepReport {
  settings: {
    parked: number;
    due: number;
    workers: number;
    concurrency: number;
    batchSize: number;
    isolateSweep: boolean;
    targetMs: number;
  };
  setup: { parkMs: number; fillerMs: number; analyzeMs: number };
  /** 1-minute load average before the sweep and after every resume finished (a shared machine). */
  load: { before: number; after: number };
  plans: Plans;
  result: SweepResult;
  /** CPU ms per resumed thread from the first sweep call until every resume finished, by process group (Linux). */
  cpuMsPerResume?: Record<string, number>;
}

const int = (n: number) => Math.round(n).toLocaleString("en-US");
const secs = (ms: number) => (ms / 1000).toFixed(2);

function row(cells: readonly string[], widths: readonly number[]): string {
  return cells.map((cell, i) => cell.padStart(widths[i] ?? 0)).join("  ");
}

/** The plans, then one line of figures. */
export function formatTable(report: SweepReport): string {
  const { settings, plans, result, setup } = report;
  const header = ["parked", "due", "sweep s", "expired/s", "all finished s", "finished/s", "≤ 10 s"];
  const line = [
    int(settings.parked),
    int(settings.due),
    secs(result.sweepMs),
    int(result.resumed / (result.sweepMs / 1000)),
    secs(result.finishedMs),
    int(result.resumed / (result.finishedMs / 1000)),
    result.finishedMs <= settings.targetMs ? "yes" : "NO",
  ];
  const widths = header.map((h, i) => Math.max(h.length, (line[i] ?? "").length));
  return [
    `Claiming query (batch ${settings.batchSize}), EXPLAIN (ANALYZE, BUFFERS):`,
    plans.claim,
    "",
    "One whole sweep batch (rolled back), EXPLAIN (ANALYZE, BUFFERS):",
    plans.batch,
    "",
    row(header, widths),
    row(line, widths),
    "",
    `  claiming query: ${plans.claimScans.join(", ") || "NO index"}, ${plans.claimMs.toFixed(2)} ms, ` +
      `${plans.claimSharedBuffers} shared buffers; one whole batch ${plans.batchMs.toFixed(1)} ms; ` +
      `sequential scans: ${plans.seqScans.join(", ") || "none"}`,
    `  sweep s: first sweep call until all ${int(settings.due)} due interrupts are expired and their resumes enqueued ` +
      `(${secs(result.enqueueMs)} s of it in BullMQ addBulk, the rest the sweep's Postgres transactions; ` +
      (settings.isolateSweep ? "the workers paused meanwhile)" : "the workers resume threads meanwhile)"),
    `  all finished s: first sweep call until all ${int(settings.due)} resume runs are status success ` +
      `(${settings.workers} worker processes × concurrency ${settings.concurrency})`,
    ...(report.cpuMsPerResume
      ? [
          `  CPU ms per resumed thread, by process (pg client: the sweep's backends; pg workers: the workers'; redis: the whole server): ` +
            describeCpu(report.cpuMsPerResume),
        ]
      : []),
    `  load average (1 min): ${report.load.before.toFixed(1)} before the sweep, ${report.load.after.toFixed(1)} after; ${availableParallelism()} cores`,
    `  setup: parking ${int(settings.due)} real threads ${secs(setup.parkMs)} s, ` +
      `${int(settings.parked - settings.due)} filler ${secs(setup.fillerMs)} s, ANALYZE ${secs(setup.analyzeMs)} s`,
    "",
  ].join("\n");
}

/** The same as JSON, with the environment it was measured in. */
export function formatJson(report: SweepReport): string {
  return JSON.stringify(
    {
      date: new Date().toISOString(),
      node: process.version,
      platform: `${process.platform} ${process.arch}`,
      cores: availableParallelism(),
      ...report,
      result: {
        ...report.result,
        expiredPerSec: report.result.resumed / (report.result.sweepMs / 1000),
        finishedPerSec: report.result.resumed / (report.result.finishedMs / 1000),
        targetMet: report.result.finishedMs <= report.settings.targetMs,
      },
    },
    null,
    2,
  );
}
