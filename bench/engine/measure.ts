import { performance } from "node:perf_hooks";
import type { BenchCase, Engine, Run } from "./graphs.ts";

/** One timed batch: runs back to back, each on a new thread, for about `ms` milliseconds. */
export interface Batch {
  runs: number;
  elapsedMs: number;
  /** Milliseconds per run. */
  latencies: number[];
}

let threadCounter = 0;

/**
 * Runs `run` sequentially until `ms` have passed (at least `minRuns` times). Each batch gets
 * a freshly compiled graph and saver (built before the clock starts), so savers don't grow
 * across batches.
 */
export async function timeBatch(run: Run, ms: number, minRuns: number): Promise<Batch> {
  const latencies: number[] = [];
  const start = performance.now();
  let now = start;
  while (now - start < ms || latencies.length < minRuns) {
    const threadId = `bench-${++threadCounter}`;
    await run(threadId);
    const end = performance.now();
    latencies.push(end - now);
    now = end;
  }
  return { runs: latencies.length, elapsedMs: now - start, latencies };
}

/** The middle value (the mean of the two middle ones for an even count). */
export function median(values: readonly number[]): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1
    ? (sorted[mid] as number)
    : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
}

/** Nearest-rank percentile. */
export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.min(sorted.length, Math.max(1, Math.ceil((p / 100) * sorted.length)));
  return sorted[rank - 1] as number;
}

export interface EngineResult {
  engine: Engine["name"];
  /** Median over rounds of runs per second. */
  runsPerSec: number;
  supersteps: number;
  superstepsPerSec: number;
  /** Over every timed run of every round, in ms. */
  p50Ms: number;
  p99Ms: number;
  /** runs/s of each round, for spread. */
  rounds: number[];
  runs: number;
}

export interface CaseResult {
  case: BenchCase["name"];
  describe: string;
  results: EngineResult[];
  /** Layover runs/s ÷ LangGraph.js runs/s (medians). */
  ratio: number;
}

export interface MeasureOptions {
  rounds: number;
  warmupRounds: number;
  batchMs: number;
  minRuns: number;
}

/**
 * Measures one case on every engine in the same process: warm-up rounds first, then timed
 * rounds in which the engines alternate (ABBA order), so drift on a noisy machine hits both.
 */
export async function measureCase(
  benchCase: BenchCase,
  engines: readonly Engine[],
  options: MeasureOptions,
): Promise<CaseResult> {
  const batches = new Map<Engine, Batch[]>(engines.map((engine) => [engine, []]));
  for (let round = 0; round < options.warmupRounds + options.rounds; round++) {
    const order = round % 2 === 0 ? engines : [...engines].reverse();
    for (const engine of order) {
      const run = benchCase.build(engine.api);
      const batch = await timeBatch(run, options.batchMs, options.minRuns);
      if (round < options.warmupRounds) continue;
      batches.get(engine)?.push(batch);
    }
  }
  const results = engines.map((engine) => summarise(benchCase, engine, batches.get(engine) ?? []));
  const [layover, langgraph] = results;
  return {
    case: benchCase.name,
    describe: benchCase.describe,
    results,
    ratio: layover && langgraph ? layover.runsPerSec / langgraph.runsPerSec : Number.NaN,
  };
}

function summarise(benchCase: BenchCase, engine: Engine, batches: readonly Batch[]): EngineResult {
  const rounds = batches.map((batch) => (batch.runs * 1000) / batch.elapsedMs);
  const latencies = batches.flatMap((batch) => batch.latencies);
  const runsPerSec = median(rounds);
  return {
    engine: engine.name,
    runsPerSec,
    supersteps: benchCase.supersteps,
    superstepsPerSec: runsPerSec * benchCase.supersteps,
    p50Ms: percentile(latencies, 50),
    p99Ms: percentile(latencies, 99),
    rounds,
    runs: latencies.length,
  };
}
