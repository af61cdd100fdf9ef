import { performance } from "node:perf_hooks";
import { timeBatch } from "../distributed/measure.ts";
import { median, percentile } from "../engine/measure.ts";
import type { StoreCase } from "./cases.ts";
import type { StoreUnderTest } from "./stores.ts";

export interface StoreResult {
  store: StoreUnderTest["name"];
  /** Median over the kept rounds of ops per second. */
  opsPerSec: number;
  /** Per op, over every op of every kept round, in ms. */
  p50Ms: number;
  p99Ms: number;
  /** Statements the store's pool sent per op (round trips; BEGIN/COMMIT included). */
  statementsPerOp: number;
  ops: number;
  /** ops/s of each kept round, for spread. */
  rounds: number[];
}

export interface CaseResult {
  case: StoreCase["name"];
  describe: string;
  inFlight: number;
  results: StoreResult[];
  /** Layover's median ops/s ÷ LangGraph.js's. */
  ratio: number;
}

export interface MeasureOptions {
  rounds: number;
  warmupRounds: number;
  batchMs: number;
  minOps: number;
}

interface Kept {
  ops: number;
  elapsedMs: number;
  latencies: number[];
  statements: number;
}

async function batchOf(storeCase: StoreCase, target: StoreUnderTest, options: MeasureOptions): Promise<Kept> {
  const next = storeCase.ops(target.store);
  const op = async () => {
    const start = performance.now();
    await next();
    return performance.now() - start;
  };
  const statementsBefore = target.counts.statements;
  const batch = await timeBatch(op, storeCase.inFlight, options.batchMs, options.minOps);
  return { ...batch, statements: target.counts.statements - statementsBefore };
}

/**
 * The other benchmarks' method: warm-up rounds, then rounds in which the stores alternate
 * (ABBA), one timed batch per store per round: `inFlight` lanes running the case's ops back to
 * back for ~`batchMs` (at least `minOps`), the batch drained before it is timed.
 */
export async function measureCase(
  storeCase: StoreCase,
  targets: readonly StoreUnderTest[],
  options: MeasureOptions,
): Promise<CaseResult> {
  const kept = new Map<StoreUnderTest, Kept[]>(targets.map((target) => [target, []]));
  for (let round = 0; round < options.warmupRounds + options.rounds; round++) {
    const order = round % 2 === 0 ? targets : [...targets].reverse();
    for (const target of order) {
      const batch = await batchOf(storeCase, target, options);
      if (round >= options.warmupRounds) kept.get(target)?.push(batch);
    }
  }
  const results = targets.map((target) => summarise(target, kept.get(target) ?? []));
  const [layover, langgraph] = results;
  return {
    case: storeCase.name,
    describe: storeCase.describe,
    inFlight: storeCase.inFlight,
    results,
    ratio: layover && langgraph ? layover.opsPerSec / langgraph.opsPerSec : Number.NaN,
  };
}

function summarise(target: StoreUnderTest, kept: readonly Kept[]): StoreResult {
  const rounds = kept.map((batch) => (batch.ops * 1000) / batch.elapsedMs);
  const latencies = kept.flatMap((batch) => batch.latencies);
  const ops = kept.reduce((total, batch) => total + batch.ops, 0);
  return {
    store: target.name,
    opsPerSec: median(rounds),
    p50Ms: percentile(latencies, 50),
    p99Ms: percentile(latencies, 99),
    statementsPerOp: kept.reduce((total, batch) => total + batch.statements, 0) / ops,
    ops,
    rounds,
  };
}
