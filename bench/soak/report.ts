// The soak's summary: what ran, which faults struck, and each invariant's verdict.
import type { FaultRecord } from "./faults.ts";
import type { InvariantResult } from "./invariants.ts";
import type { Ledger } from "./ledger.ts";
import type { LogTally } from "./services.ts";
import type { Snapshot } from "./snapshot.ts";

export interface SoakSummary {
  seed: number;
  minutes: number;
  settleMs: number;
  ledger: Ledger;
  snapshot: Snapshot;
  faults: FaultRecord[];
  logs: LogTally;
  results: InvariantResult[];
}

function countBy<T>(items: T[], key: (item: T) => string): string {
  const counts = new Map<string, number>();
  for (const item of items) counts.set(key(item), (counts.get(key(item)) ?? 0) + 1);
  return [...counts].map(([k, n]) => `${k} ${n}`).join(", ") || "none";
}

export function formatSummary(s: SoakSummary): string {
  const { calls } = s.ledger;
  const finished = s.snapshot.runs.filter((r) => r.status !== "pending" && r.status !== "running").length;
  const lines = [
    `soak: seed ${s.seed}, ${s.minutes} min of load and faults, settled in ${(s.settleMs / 1000).toFixed(1)} s`,
    `threads: ${s.ledger.threads.size} (${countBy([...s.ledger.threads.values()], (t) => t.kind)})`,
    `runs: ${s.snapshot.runs.length} recorded, ${finished} finished; starts ${calls.starts}, resumes ${calls.resumes}, cancels ${calls.cancels}, busy refusals ${calls.busyRefusals}`,
    `races: ${countBy(s.ledger.races, (r) => r.kind)}`,
    `faults: ${s.faults.length} (${countBy(s.faults, (f) => f.kind)})`,
    `unexpected producer errors: ${s.ledger.unexpected.length}`,
    ...s.ledger.unexpected.slice(0, 10).map((u) => `  ${u.threadId} ${u.call}: ${u.error}`),
    `warnings logged: ${s.logs.warnings.size === 0 ? "none" : ""}`,
    ...[...s.logs.warnings].map(([msg, n]) => `  ${n} × ${msg}`),
    `stderr lines: ${s.logs.errors.filter((e) => e.level === 0).length}`,
    ...s.logs.errors
      .filter((e) => e.level === 0)
      .slice(0, 5)
      .map((e) => `  ${e.process} ${e.msg}`),
    "",
  ];
  for (const r of s.results) {
    lines.push(`${r.pass ? "PASS" : "FAIL"} ${r.name}: ${r.counts}`);
    for (const failure of r.failures) lines.push(`     ${failure}`);
  }
  return lines.join("\n");
}
