import { availableParallelism, loadavg } from "node:os";
import { parseArgs } from "node:util";
import { isDurability } from "@layover/graph";
import { ROUND_OPTIONS, wholeNumber } from "../support/cli.ts";
import { type CpuSampler, cpuSampler } from "../support/cpu.ts";
import { type Fleet, startFleet, type WorkerSettings } from "./fleet.ts";
import { LINEAR_NODES } from "./graphs.ts";
import { type BenchCase, type CaseResult, measureCase } from "./measure.ts";
import { formatJson, formatTable } from "./report.ts";
import { langgraphTarget, layoverInProcessTarget, layoverTarget, type Target } from "./targets.ts";

const USAGE = `Usage: pnpm bench:distributed [--json] [--case linear|round-trip|sequential] [--rounds 5] [--warmup 1]
         [--batch-ms 2000] [--in-flight 50] [--workers 2] [--concurrency 8] [--budget-steps 16]
         [--budget-ms 1000] [--client-pool 20] [--peer-pool 20] [--no-peer] [--in-process]
         [--cpu-prof <dir>] [--durability sync|async|exit] [--stream]

Runs each case through a Layover deployment of its own (a fresh Postgres schema, a unique BullMQ
prefix, --workers worker processes, the producer client in this process) and on LangGraph.js with
its PostgresSaver in this process against the same Postgres (its own schema), alternating the two
over several rounds; prints ops/s, supersteps/s, p50/p99 and the Layover/LangGraph ratio (medians
over rounds). --json prints JSON instead of the table; --no-peer skips LangGraph.js; --in-process adds
Layover's engine and PostgresSaver invoked in this process (no runtime, no BullMQ) as a reference;
--cpu-prof writes the worker processes' CPU profiles to <dir>; --durability (LangGraph's option, the
same for every engine; default "async", which Layover stores as "sync") "exit" stores a run's
checkpoint only where it stops or, in Layover, where a job hands the thread over. --stream streams
the round trips' "updates" (Layover: runs.stream from start and resume, read to each run's end;
LangGraph.js: stream() drained) instead of waiting for each run.`;

const CASES = {
  linear: (inFlight: number): BenchCase => ({
    name: "linear",
    describe: `${LINEAR_NODES} nodes in a chain (count: sum, log: concat), one run per op, ${inFlight} runs in flight`,
    inFlight,
    supersteps: LINEAR_NODES,
    latency: "start → finished",
    op: (target) => () => target.linear(),
  }),
  "round-trip": (inFlight: number): BenchCase => ({
    name: "round trip",
    describe: `planner → approval (interrupt) → act: start → parked → resume → finished, ${inFlight} threads in flight`,
    inFlight,
    supersteps: 4,
    latency: "resume → finished",
    op: (target) => () => target.roundTrip(),
  }),
  sequential: (): BenchCase => ({
    name: "round trip, sequential",
    describe: "the same round trip, one thread at a time",
    inFlight: 1,
    supersteps: 4,
    latency: "resume → finished",
    op: (target) => () => target.roundTrip(),
  }),
} as const;
type CaseName = keyof typeof CASES;

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      ...ROUND_OPTIONS,
      "in-flight": { type: "string" },
      workers: { type: "string" },
      concurrency: { type: "string" },
      "budget-steps": { type: "string" },
      "budget-ms": { type: "string" },
      "client-pool": { type: "string" },
      "peer-pool": { type: "string" },
      "no-peer": { type: "boolean", default: false },
      "in-process": { type: "boolean", default: false },
      "cpu-prof": { type: "string" },
      durability: { type: "string" },
      stream: { type: "boolean", default: false },
    },
  });
  if (values.help) {
    console.log(USAGE);
    return;
  }
  const inFlight = Math.max(1, wholeNumber(values["in-flight"], "in-flight", 50));
  const measure = {
    rounds: Math.max(1, wholeNumber(values.rounds, "rounds", 5)),
    warmupRounds: wholeNumber(values.warmup, "warmup", 1),
    batchMs: Math.max(1, wholeNumber(values["batch-ms"], "batch-ms", 2000)),
  };
  // STEP_BUDGET_MS defaults to 50 in the worker; on a loaded machine 50 ms of wall clock runs out
  // after about two supersteps, so a linear run went back through BullMQ ~5 times and cost ~50%
  // more CPU. With 1000 a 10-step run finishes in one job (STEP_BUDGET_STEPS still caps it at 16).
  const durability = values.durability ?? "async";
  if (!isDurability(durability)) throw new Error(`--durability must be sync, async or exit. ${USAGE}`);
  const workers: WorkerSettings = {
    workers: Math.max(1, wholeNumber(values.workers, "workers", 2)),
    concurrency: Math.max(1, wholeNumber(values.concurrency, "concurrency", 8)),
    budgetSteps: Math.max(1, wholeNumber(values["budget-steps"], "budget-steps", 16)),
    budgetMs: Math.max(1, wholeNumber(values["budget-ms"], "budget-ms", 1000)),
    clientPool: Math.max(1, wholeNumber(values["client-pool"], "client-pool", 20)),
    durability,
    ...(values["cpu-prof"] ? { cpuProfDir: values["cpu-prof"] } : {}),
  };
  const peerPool = Math.max(1, wholeNumber(values["peer-pool"], "peer-pool", 20));
  const selected = (values.case ?? Object.keys(CASES)) as CaseName[];
  const unknown = selected.filter((name) => !(name in CASES));
  if (unknown.length > 0) throw new Error(`Unknown case ${unknown.join(", ")}. ${USAGE}`);
  const log = values.json ? () => {} : (line: string) => process.stderr.write(`${line}\n`);
  const settingsLine =
    `Node ${process.version}, ${availableParallelism()} cores; ${workers.workers} worker processes, ` +
    `WORKER_CONCURRENCY=${workers.concurrency}, STEP_BUDGET_STEPS=${workers.budgetSteps}, STEP_BUDGET_MS=${workers.budgetMs}, ` +
    `client pool ${workers.clientPool}, LangGraph.js pool ${peerPool}, durability "${durability}" for all${values.stream ? ', round trips streamed ("updates")' : ""}; ` +
    `${measure.rounds} rounds of ~${measure.batchMs} ms per engine after ${measure.warmupRounds} warm-up round(s).`;
  log(settingsLine);

  const targets: Target[] = [];
  let fleet: Fleet | undefined;
  let sampler: CpuSampler | undefined;
  const cleanup = async () => {
    await sampler?.close().catch(() => {});
    sampler = undefined;
    for (const target of targets.splice(0)) await target.close().catch(() => {});
    await fleet?.close();
    fleet = undefined;
  };
  // The first Ctrl-C (or SIGTERM) lets the ops in flight finish, then cleans up as on any error;
  // a second one cleans up at once.
  const stop = new AbortController();
  for (const signal of ["SIGINT", "SIGTERM"] as const) {
    process.on(signal, () => {
      if (!stop.signal.aborted) {
        process.stderr.write(
          `${signal}: finishing the ops in flight, then removing schemas, keys and workers…\n`,
        );
        stop.abort(new Error(`Stopped by ${signal}.`));
        return;
      }
      cleanup().finally(() => process.exit(130));
    });
  }
  const results: CaseResult[] = [];
  const load = (): string => loadavg()[0]?.toFixed(2) ?? "n/a";
  const loadBefore = load();
  try {
    fleet = await startFleet(workers, log);
    sampler = await cpuSampler(fleet.databaseUrl, fleet.workerPids, fleet.redisPid);
    const sampleCpu = sampler.sample;
    targets.push(layoverTarget(fleet.client, values.stream));
    if (!values["no-peer"]) targets.push(await langgraphTarget(peerPool, durability, values.stream));
    if (values["in-process"]) targets.push(await layoverInProcessTarget(peerPool, durability));
    for (const name of selected) {
      const benchCase = CASES[name](inFlight);
      log(`measuring ${benchCase.name}…`);
      results.push(
        await measureCase(benchCase, targets, { ...measure, sampleCpu, signal: stop.signal }, log),
      );
    }
    const left = await fleet.jobsInRedis();
    if (left > 0) throw new Error(`${left} step jobs were left in BullMQ after the runs finished.`);
  } finally {
    await cleanup();
  }
  // Both systems share the machine, so the ratios hold up better than the absolute figures.
  const loadLine = `1-minute load average: ${loadBefore} at the start, ${load()} at the end.`;
  console.log(
    values.json
      ? formatJson(results, { ...measure, inFlight, ...workers, peerPool, loadAverage: loadLine })
      : formatTable(results, `${settingsLine}\n${loadLine}`),
  );
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exitCode = 1;
});
