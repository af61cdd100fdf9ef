import { availableParallelism, loadavg } from "node:os";
import { parseArgs } from "node:util";
import { wholeNumber } from "../support/cli.ts";
import { cpuSampler, cpuSpent } from "../support/cpu.ts";
import { startDeployment } from "./deployment.ts";
import { explain, insertFiller, makeDue, parkRealThreads, sweepAndFinish } from "./phases.ts";
import { formatJson, formatTable, type SweepReport } from "./report.ts";

const USAGE = `Usage: pnpm bench:sweep [--json] [--parked 1000000] [--due 10000] [--workers 2] [--concurrency 8] [--batch-size 1000] [--isolate-sweep]

Parks --due real threads through the runtime (worker processes, a graph whose node calls
interrupt() with a timeout and then finishes), adds filler parked interrupts set-based up to
--parked, ANALYZEs, makes the real ones due, shows the plan of the sweep's claiming query, then
sweeps and waits until every resume run has finished. --isolate-sweep pauses the workers until
the sweep is done (the sweep's own cost). --json prints JSON instead of the table.`;

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      json: { type: "boolean", default: false },
      parked: { type: "string" },
      due: { type: "string" },
      workers: { type: "string" },
      concurrency: { type: "string" },
      "batch-size": { type: "string" },
      "isolate-sweep": { type: "boolean", default: false },
      help: { type: "boolean", default: false },
    },
  });
  if (values.help) {
    console.log(USAGE);
    return;
  }
  const settings = {
    parked: wholeNumber(values.parked, "parked", 1_000_000, 1),
    due: wholeNumber(values.due, "due", 10_000, 1),
    workers: wholeNumber(values.workers, "workers", 2, 1),
    concurrency: wholeNumber(values.concurrency, "concurrency", 8, 1),
    batchSize: wholeNumber(values["batch-size"], "batch-size", 1_000, 1),
    isolateSweep: values["isolate-sweep"],
    targetMs: 10_000,
  };
  if (settings.due > settings.parked) throw new Error("--due cannot exceed --parked.");
  const log = (line: string) => process.stderr.write(`${line}\n`);
  log(
    `Node ${process.version}, ${availableParallelism()} cores; ${settings.parked.toLocaleString("en-US")} parked, ` +
      `${settings.due.toLocaleString("en-US")} due; ${settings.workers} workers × concurrency ${settings.concurrency}; ` +
      `sweep batches of ${settings.batchSize}.`,
  );
  const d = await startDeployment(settings, log);
  try {
    log(`parking ${settings.due.toLocaleString("en-US")} real threads through the runtime…`);
    const parkMs = await parkRealThreads(d, settings.due, 64, log);
    log(`adding ${(settings.parked - settings.due).toLocaleString("en-US")} filler parked threads…`);
    const fillerMs = await insertFiller(d, settings.parked - settings.due, log);
    const started = performance.now();
    await d.pool.query(`ANALYZE ${d.db.table("threads")}, ${d.db.table("interrupts")}`);
    const analyzeMs = performance.now() - started;
    const due = await makeDue(d);
    if (due !== settings.due) throw new Error(`expected ${settings.due} due interrupts, made ${due} due`);
    log("explaining the sweep…");
    const plans = await explain(d, settings.batchSize);
    log("sweeping and waiting for every resume to finish…");
    const loadBefore = loadavg()[0] ?? 0;
    const sampler = await cpuSampler(d.databaseUrl, d.workerPids, d.redisPid);
    const cpuBefore = await sampler.sample();
    const result = await sweepAndFinish(d, due, settings.batchSize, settings.isolateSweep, log);
    const cpu = cpuSpent(cpuBefore, await sampler.sample());
    await sampler.close();
    const load = { before: loadBefore, after: loadavg()[0] ?? 0 };
    if (result.resumed !== due) throw new Error(`the sweep resumed ${result.resumed} of ${due} due threads`);
    if (result.errors > 0 || result.success !== due)
      throw new Error(`${result.success} resume runs succeeded and ${result.errors} failed, of ${due}`);
    if (result.rejected !== due || !result.sampleOk)
      throw new Error("resumed threads did not all get the timeout rejection");
    const cpuMsPerResume = cpu && Object.fromEntries([...cpu].map(([group, ms]) => [group, ms / due]));
    const report: SweepReport = {
      settings,
      setup: { parkMs, fillerMs, analyzeMs },
      load,
      plans,
      result,
      ...(cpuMsPerResume ? { cpuMsPerResume } : {}),
    };
    console.log(values.json ? formatJson(report) : formatTable(report));
  } finally {
    await d.close();
  }
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exitCode = 1;
});
