import { performance } from "node:perf_hooks";
import { median, percentile } from "../engine/measure.ts";
import { type CpuSample, cpuSpent, type ProcessSample } from "../support/cpu.ts";
import type { Target } from "./targets.ts";

/** One timed batch: `inFlight` lanes, each running ops back to back, for about `ms`. */
export interface Batch {
  ops: number;
  /** From the first op's start to the last op's end (the batch drains before it is timed). */
  elapsedMs: number;
  /** Per op, as the target reports it (whole run, or resume → finished), in ms. */
  latencies: number[];
  /** CPU ms used during the batch, by process group (Linux only). */
  cpu?: CpuSample;
}

/**
 * Keeps `inFlight` ops running until `ms` have passed (and at least `minOps` have started),
 * then waits for the ones in flight: nothing of a batch is left in the system for the next.
 * Once `signal` aborts, no new op starts.
 */
export async function timeBatch(
  op: () => Promise<number>,
  inFlight: number,
  ms: number,
  minOps: number,
  signal?: AbortSignal,
): Promise<Batch> {
  const latencies: number[] = [];
  let started = 0;
  const start = performance.now();
  const lane = async () => {
    while ((performance.now() - start < ms || started < minOps) && !signal?.aborted) {
      started += 1;
      latencies.push(await op());
    }
  };
  await Promise.all(Array.from({ length: inFlight }, lane));
  return { ops: latencies.length, elapsedMs: performance.now() - start, latencies };
}

export interface BenchCase {
  name: "linear" | "round trip" | "round trip, sequential";
  describe: string;
  /** Ops in flight at once. */
  inFlight: number;
  /** Supersteps that run nodes in one op. */
  supersteps: number;
  /** What p50/p99 time. */
  latency: string;
  op(target: Target): () => Promise<number>;
}

export interface TargetResult {
  engine: Target["name"];
  /** Median over rounds of ops (runs or round trips) per second. */
  opsPerSec: number;
  superstepsPerSec: number;
  p50Ms: number;
  p99Ms: number;
  /** ops/s of each kept round, for spread. */
  rounds: number[];
  ops: number;
  /** CPU ms per op by process group, over the kept rounds (Linux only; Postgres and Redis machine-wide). */
  cpuMsPerOp?: Record<string, number>;
}

export interface CaseResult {
  case: BenchCase["name"];
  describe: string;
  inFlight: number;
  supersteps: number;
  latency: string;
  results: TargetResult[];
  /** Layover ops/s ÷ LangGraph.js ops/s (medians). */
  ratio: number;
  /** LangGraph.js p50 ÷ Layover p50: above 1 when Layover answers sooner. */
  latencyRatio: number;
}

export interface MeasureOptions {
  rounds: number;
  warmupRounds: number;
  batchMs: number;
  /** Samples CPU use by process group, when it can. */
  sampleCpu?: () => Promise<ProcessSample | undefined>;
  /** Stops the measurement: the ops in flight finish, then `measureCase` throws the reason. */
  signal?: AbortSignal;
}

/**
 * Measures one case on every target in the same run: warm-up rounds first, then timed rounds
 * in which the targets alternate (ABBA order), so drift on a shared machine hits both.
 */
export async function measureCase(
  benchCase: BenchCase,
  targets: readonly Target[],
  options: MeasureOptions,
  log: (line: string) => void,
): Promise<CaseResult> {
  const batches = new Map<Target, Batch[]>(targets.map((target) => [target, []]));
  for (let round = 0; round < options.warmupRounds + options.rounds; round++) {
    const order = round % 2 === 0 ? targets : [...targets].reverse();
    for (const target of order) {
      const before = await options.sampleCpu?.();
      const op = benchCase.op(target);
      const batch = await timeBatch(
        op,
        benchCase.inFlight,
        options.batchMs,
        benchCase.inFlight,
        options.signal,
      );
      options.signal?.throwIfAborted();
      const cpu = cpuSpent(before, await options.sampleCpu?.());
      if (cpu) batch.cpu = cpu;
      const warm = round < options.warmupRounds;
      log(
        `  ${warm ? "warm-up" : `round ${round - options.warmupRounds + 1}`} ${target.name}: ${batch.ops} in ${Math.round(batch.elapsedMs)} ms`,
      );
      if (!warm) batches.get(target)?.push(batch);
    }
  }
  const results = targets.map((target) => summarise(benchCase, target, batches.get(target) ?? []));
  const layover = results.find((r) => r.engine === "Layover");
  const langgraph = results.find((r) => r.engine === "LangGraph.js");
  return {
    case: benchCase.name,
    describe: benchCase.describe,
    inFlight: benchCase.inFlight,
    supersteps: benchCase.supersteps,
    latency: benchCase.latency,
    results,
    ratio: layover && langgraph ? layover.opsPerSec / langgraph.opsPerSec : Number.NaN,
    latencyRatio: layover && langgraph ? langgraph.p50Ms / layover.p50Ms : Number.NaN,
  };
}

function summarise(benchCase: BenchCase, target: Target, batches: readonly Batch[]): TargetResult {
  const rounds = batches.map((batch) => (batch.ops * 1000) / batch.elapsedMs);
  const latencies = batches.flatMap((batch) => batch.latencies);
  const opsPerSec = median(rounds);
  return {
    engine: target.name,
    opsPerSec,
    superstepsPerSec: opsPerSec * benchCase.supersteps,
    p50Ms: percentile(latencies, 50),
    p99Ms: percentile(latencies, 99),
    rounds,
    ops: latencies.length,
    ...cpuPerOp(batches, latencies.length),
  };
}

function cpuPerOp(batches: readonly Batch[], ops: number): { cpuMsPerOp?: Record<string, number> } {
  if (ops === 0 || batches.some((batch) => batch.cpu === undefined)) return {};
  const total: Record<string, number> = {};
  for (const batch of batches) {
    for (const [group, ms] of batch.cpu ?? []) total[group] = (total[group] ?? 0) + ms;
  }
  return { cpuMsPerOp: Object.fromEntries(Object.entries(total).map(([group, ms]) => [group, ms / ops])) };
}
