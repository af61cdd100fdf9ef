import type { BenchCase, Engine } from "../engine/graphs.ts";
import { type Batch, median, percentile, timeBatch } from "../engine/measure.ts";
import type { PostgresEngine } from "./savers.ts";
import type { BenchServer, StatementCounts } from "./server.ts";

/** What the database gained while a function ran. */
export interface Usage {
  /** Growth of the engine's tables (`pg_total_relation_size`, indexes and TOAST included). */
  bytes: number;
  /** The same, table by table. */
  tables: Record<string, number>;
  /** `pg_stat_database.xact_commit` delta, less the benchmark's own statements. */
  commits: number;
  /** What the engine's pool sent, counted on the client. */
  sent: StatementCounts;
  /** autovacuum/autoanalyze runs on the benchmark's tables meanwhile (they commit too). */
  autovacuumRuns: number;
}

const sum = (bytes: Record<string, number>) => Object.values(bytes).reduce((total, n) => total + n, 0);

/**
 * Runs `fn` between two readings of the engine's schema size and of the database's commit
 * counter. Every backend of the engine's pool flushes its statistics right before the first
 * reading and right after `fn`, so the counter holds exactly the commits made in between (the
 * flushes after `fn` are subtracted).
 */
export async function measureUsage<T>(
  server: BenchServer,
  target: PostgresEngine,
  schemas: readonly string[],
  fn: () => Promise<T>,
): Promise<{ result: T; usage: Usage }> {
  const bytesBefore = await server.tableBytes(target.schema);
  const vacuumsBefore = await server.autovacuumRuns(schemas);
  await target.counting.flushStats();
  const commitsBefore = await server.commits();
  const sentBefore = { ...target.counting.counts };
  const result = await fn();
  const sentAfter = { ...target.counting.counts };
  const flushes = await target.counting.flushStats();
  const commitsAfter = await server.commits();
  const bytesAfter = await server.tableBytes(target.schema);
  const vacuumsAfter = await server.autovacuumRuns(schemas);
  return {
    result,
    usage: {
      bytes: sum(bytesAfter) - sum(bytesBefore),
      tables: Object.fromEntries(
        Object.entries(bytesAfter).map(([table, bytes]) => [table, bytes - (bytesBefore[table] ?? 0)]),
      ),
      commits: commitsAfter - commitsBefore - flushes - server.readOverhead,
      sent: {
        statements: sentAfter.statements - sentBefore.statements,
        commits: sentAfter.commits - sentBefore.commits,
        readCommits: sentAfter.readCommits - sentBefore.readCommits,
      },
      autovacuumRuns: vacuumsAfter - vacuumsBefore,
    },
  };
}

export interface Round {
  runs: number;
  elapsedMs: number;
  runsPerSec: number;
  usage: Usage;
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
  /** Totals over the kept rounds ÷ their runs. */
  bytesPerRun: number;
  commitsPerRun: number;
  statementsPerRun: number;
  /** Client-side count of committed transactions (should equal commitsPerRun), and its reads. */
  sentCommitsPerRun: number;
  readCommitsPerRun: number;
  /** bytesPerRun table by table. */
  tableBytesPerRun: Record<string, number>;
  autovacuumRuns: number;
  runs: number;
  rounds: Round[];
}

export interface CaseResult {
  case: BenchCase["name"];
  describe: string;
  results: EngineResult[];
  /** Layover ÷ LangGraph.js: runs/s (higher is better), bytes and commits per run (lower is better). */
  ratios: { throughput: number; bytes: number; commits: number };
}

export interface MeasureOptions {
  rounds: number;
  warmupRounds: number;
  batchMs: number;
  minRuns: number;
}

/**
 * The engine benchmark's method (`../engine/measure.ts`) with each engine's Postgres saver:
 * warm-up rounds, then rounds in which the engines alternate (ABBA), one timed batch of
 * sequential runs on new threads per engine per round, a freshly compiled graph and saver per
 * batch. Each batch is also a window for bytes and commits.
 */
export async function measureCase(
  server: BenchServer,
  benchCase: BenchCase,
  targets: readonly PostgresEngine[],
  options: MeasureOptions,
): Promise<CaseResult> {
  const schemas = targets.map((target) => target.schema);
  const kept = new Map<PostgresEngine, { batch: Batch; usage: Usage }[]>(targets.map((t) => [t, []]));
  for (let round = 0; round < options.warmupRounds + options.rounds; round++) {
    const order = round % 2 === 0 ? targets : [...targets].reverse();
    for (const target of order) {
      const run = benchCase.build(target.engine.api, target.newSaver());
      const { result: batch, usage } = await measureUsage(server, target, schemas, () =>
        timeBatch(run, options.batchMs, options.minRuns),
      );
      if (round >= options.warmupRounds) kept.get(target)?.push({ batch, usage });
    }
  }
  const results = targets.map((target) => summarise(benchCase, target.engine, kept.get(target) ?? []));
  const [layover, langgraph] = results;
  return {
    case: benchCase.name,
    describe: benchCase.describe,
    results,
    ratios: {
      throughput: layover && langgraph ? layover.runsPerSec / langgraph.runsPerSec : Number.NaN,
      bytes: layover && langgraph ? layover.bytesPerRun / langgraph.bytesPerRun : Number.NaN,
      commits: layover && langgraph ? layover.commitsPerRun / langgraph.commitsPerRun : Number.NaN,
    },
  };
}

function summarise(
  benchCase: BenchCase,
  engine: Engine,
  kept: readonly { batch: Batch; usage: Usage }[],
): EngineResult {
  const rounds: Round[] = kept.map(({ batch, usage }) => ({
    runs: batch.runs,
    elapsedMs: batch.elapsedMs,
    runsPerSec: (batch.runs * 1000) / batch.elapsedMs,
    usage,
  }));
  const runs = rounds.reduce((total, round) => total + round.runs, 0);
  const perRun = (pick: (usage: Usage) => number) =>
    rounds.reduce((total, round) => total + pick(round.usage), 0) / runs;
  const runsPerSec = median(rounds.map((round) => round.runsPerSec));
  const latencies = kept.flatMap(({ batch }) => batch.latencies);
  return {
    engine: engine.name,
    runsPerSec,
    supersteps: benchCase.supersteps,
    superstepsPerSec: runsPerSec * benchCase.supersteps,
    p50Ms: percentile(latencies, 50),
    p99Ms: percentile(latencies, 99),
    bytesPerRun: perRun((usage) => usage.bytes),
    commitsPerRun: perRun((usage) => usage.commits),
    statementsPerRun: perRun((usage) => usage.sent.statements),
    sentCommitsPerRun: perRun((usage) => usage.sent.commits),
    readCommitsPerRun: perRun((usage) => usage.sent.readCommits),
    tableBytesPerRun: Object.fromEntries(
      Object.keys(rounds[0]?.usage.tables ?? {}).map((table) => [
        table,
        perRun((usage) => usage.tables[table] ?? 0),
      ]),
    ),
    autovacuumRuns: rounds.reduce((total, round) => total + round.usage.autovacuumRuns, 0),
    runs,
    rounds,
  };
}
