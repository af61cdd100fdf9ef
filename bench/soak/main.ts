// pnpm --filter @layover/bench run soak [--minutes N] [--seed S] [--in-flight K]: a deployment of
// its own under load and faults for N minutes, then a bounded settle and the invariants. Exits 1
// when one fails. Tears everything down, on failure and on Ctrl-C too.
import { parseArgs } from "node:util";
import { wholeNumber } from "../support/cli.ts";
import { type FaultRecord, injectFaults } from "./faults.ts";
import { type SoakFleet, startSoakFleet } from "./fleet.ts";
import {
  expiries,
  finalStates,
  finalValues,
  jobsMatchRuns,
  logLevels,
  noForks,
  oneResumeEach,
} from "./invariants.ts";
import { type Ledger, newLedger } from "./ledger.ts";
import { generateLoad } from "./load.ts";
import { formatSummary } from "./report.ts";
import { seededRng } from "./rng.ts";
import { readSnapshot } from "./snapshot.ts";
import { streamsEnd } from "./stream-check.ts";

const USAGE = `Usage: pnpm --filter @layover/bench run soak [--minutes 5] [--seed <n>] [--in-flight 10] [--settle-s 180]`;
const log = (line: string) => process.stderr.write(`[${new Date().toISOString().slice(11, 19)}] ${line}\n`);

/** Until no run is pending or running and BullMQ holds no job, or `settleMs` passed. */
async function settle(fleet: SoakFleet, settleMs: number): Promise<void> {
  const s = fleet.deployment.schema;
  const deadline = Date.now() + settleMs;
  while (Date.now() < deadline) {
    const { rows } = await fleet.pool.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM "${s}".runs WHERE status IN ('pending', 'running')`,
    );
    const due = await fleet.pool.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM "${s}".interrupts WHERE status = 'pending' AND deadline IS NOT NULL`,
    );
    const counts = await fleet.queue.getJobCounts("waiting", "active", "delayed", "prioritized");
    const jobs = Object.values(counts).reduce((a, b) => a + b, 0);
    if (rows[0]?.n === 0 && due.rows[0]?.n === 0 && jobs === 0) return;
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
  log(`not settled within ${settleMs / 1000} s; checking as it is`);
}

async function soak(
  fleet: SoakFleet,
  options: { minutes: number; seed: number; inFlight: number; settleMs: number },
  stop: AbortSignal,
) {
  const ledger: Ledger = newLedger();
  const loadStop = new AbortController();
  const endLoad = () => loadStop.abort();
  stop.addEventListener("abort", endLoad);
  const timer = setTimeout(endLoad, options.minutes * 60_000);
  const load = generateLoad(
    { clients: fleet.clients, ledger },
    { inFlight: options.inFlight, seed: options.seed, signal: loadStop.signal },
  );
  const faults: Promise<FaultRecord[]> = injectFaults(fleet, seededRng(options.seed ^ 0x5eed), {
    minGapMs: 4_000,
    maxGapMs: 12_000,
    signal: loadStop.signal,
    log,
  });
  // Settling is timed from the stop: a fault under way (a freeze) and the stories under way end within it.
  let settleStart = Date.now();
  loadStop.signal.addEventListener("abort", () => {
    settleStart = Date.now();
    log(
      `load and faults stop; ${ledger.threads.size} threads so far; what is under way ends, then the system settles`,
    );
  });
  const injected = await faults;
  await load;
  clearTimeout(timer);
  await settle(fleet, Math.max(0, options.settleMs - (Date.now() - settleStart)));
  const settleMs = Date.now() - settleStart;
  const snapshot = await readSnapshot(fleet, ledger);
  const settledAt = Date.now();
  const results = [
    finalStates(snapshot, ledger),
    noForks(snapshot),
    finalValues(snapshot, ledger),
    oneResumeEach(snapshot, ledger),
    expiries(snapshot, ledger, settledAt),
    jobsMatchRuns(snapshot),
    logLevels(fleet.tally),
    streamsEnd(snapshot, ledger, injected),
  ];
  console.log(
    formatSummary({ ...options, settleMs, ledger, snapshot, faults: injected, logs: fleet.tally, results }),
  );
  return results.every((r) => r.pass);
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      minutes: { type: "string" },
      seed: { type: "string" },
      "in-flight": { type: "string" },
      "settle-s": { type: "string" },
      help: { type: "boolean", default: false },
    },
  });
  if (values.help) return console.log(USAGE);
  const options = {
    minutes: Math.max(1, wholeNumber(values.minutes, "minutes", 5)),
    seed: wholeNumber(values.seed, "seed", Date.now() % 1_000_000),
    inFlight: Math.max(1, wholeNumber(values["in-flight"], "in-flight", 10)),
    settleMs: 1000 * Math.max(1, wholeNumber(values["settle-s"], "settle-s", 180)),
  };
  log(`soak: seed ${options.seed}, ${options.minutes} min, ${options.inFlight} stories in flight`);
  const stop = new AbortController();
  let fleet: SoakFleet | undefined;
  for (const signal of ["SIGINT", "SIGTERM"] as const)
    process.on(signal, () => {
      if (stop.signal.aborted) fleet?.close().finally(() => process.exit(130));
      log(`${signal}: stopping load and faults, then checking and tearing down (again: at once)`);
      stop.abort();
    });
  try {
    fleet = await startSoakFleet(log);
    if (!(await soak(fleet, options, stop.signal))) process.exitCode = 1;
  } finally {
    await fleet?.close();
    log("deployment removed (processes, schema, keys)");
  }
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? (error.stack ?? error.message) : error);
  process.exitCode = 1;
});
