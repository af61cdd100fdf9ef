import { fixed, table, times } from "../support/table.ts";
import type { SemanticCheck } from "./data.ts";
import type { CaseResult } from "./measure.ts";

/** Where a case's figures do not compare like with like (printed under the table). */
export const CAVEATS: readonly string[] = [
  "search: LangGraph.js matches the prefix as text (namespace_path LIKE 'users:u042%'), Layover by whole labels",
  "  (a range of its text[] primary key); user ids are zero-padded so both return the same items here.",
  "  LangGraph.js orders search() by updated_at and batch searches by created_at, Layover both by updated_at.",
  '  { kind: "food" }: LangGraph.js value @> (containment), Layover JSON equality; the same on scalars.',
  "  $gt: LangGraph.js (value ->> key)::numeric (an error on a string value), Layover compares numbers",
  "  with numbers and strings with strings.",
  "listNamespaces: LangGraph.js reads every item under the prefix (SELECT DISTINCT namespace_path),",
  "  applies limit, then drops namespaces deeper than maxDepth; Layover cuts them to maxDepth and walks",
  "  the primary key one namespace at a time. Both give the same 100 here, where maxDepth = the depth.",
  "batch: LangGraph.js runs each op as its own statement on one connection, each committing alone;",
  "  Layover sends each run of reads and each run of writes as one statement, in one transaction",
  "  (all or nothing).",
];

/** The results as a plain-text table, the semantic checks and the caveats. */
export function formatTable(results: readonly CaseResult[], checks: readonly SemanticCheck[]): string {
  const header = ["case", "store", "ops/s", "p50 ms", "p99 ms", "statements/op", "Layover/LangGraph"];
  const lines: string[][] = [];
  for (const result of results) {
    result.results.forEach((store, i) => {
      lines.push([
        i === 0 ? result.case : "",
        store.store,
        fixed(store.opsPerSec, 0),
        fixed(store.p50Ms, 2),
        fixed(store.p99Ms, 2),
        fixed(store.statementsPerOp, 1),
        i === 0 ? times(result.ratio, 2) : "",
      ]);
    });
  }
  const out = [...table(header, lines, 2), ""];
  out.push(...results.map((result) => `  ${result.case}: ${result.describe}`), "");
  if (checks.length > 0) {
    out.push("answers that differ (run once, not timed):");
    for (const check of checks) {
      const answers = Object.entries(check.answers).map(([store, answer]) => `${store} ${answer}`);
      out.push(`  ${check.call}: ${answers.join("; ")}`);
    }
    out.push("");
  }
  out.push("not like for like:", ...CAVEATS.map((line) => `  ${line}`), "");
  return out.join("\n");
}
