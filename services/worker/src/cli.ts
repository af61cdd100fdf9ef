#!/usr/bin/env node
// layover-worker --graphs <module>: serves the graphs the module exports (default export or
// `graphs`: an object of graph id → compiled graph) until SIGTERM/SIGINT; `storeIndex`, if the
// module exports one, is the index of the store they get (semantic search).
import { existsSync, statSync } from "node:fs";
import { resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { parseArgs } from "node:util";
import type { IndexConfig } from "@layover/checkpoint";
import {
  createLogger,
  InvalidConfigError,
  main,
  postgresTimeouts,
  runUntilSignalled,
  unreadEnvWarnings,
} from "@layover/runtime";
import { parseWorkerEnv, WorkerEnv } from "./config.ts";
import { createWorker, type GraphEntry } from "./worker.ts";

type GraphModule = {
  graphs?: Record<string, GraphEntry>;
  storeIndex?: IndexConfig;
  default?: Record<string, GraphEntry> & { graphs?: Record<string, GraphEntry>; storeIndex?: IndexConfig };
};

/**
 * The module at `modulePath`; one that is not there is a mistake in the command line, said in
 * one line. One that is there but imports what is not is the module's own error: Node's message
 * names the missing import.
 */
async function importModule(modulePath: string): Promise<GraphModule> {
  const path = resolve(modulePath);
  if (!existsSync(path) || !statSync(path).isFile())
    throw new InvalidConfigError(`--graphs ${modulePath}: no such module (looked for ${path}).`);
  return (await import(pathToFileURL(path).href)) as GraphModule;
}

/** The module's graphs, and the index of the store they get (`export const storeIndex`), if it has one. */
async function loadGraphs(
  modulePath: string,
): Promise<{ graphs: Record<string, GraphEntry>; storeIndex?: IndexConfig }> {
  const mod = await importModule(modulePath);
  // `export default { graphs }` is read as `export const graphs`.
  const graphs = mod.graphs ?? mod.default?.graphs ?? mod.default;
  if (graphs === undefined || (typeof graphs === "object" && Object.keys(graphs).length === 0))
    throw new InvalidConfigError(
      `${modulePath} exports no graphs: export const graphs = { "my-graph": compiledGraph }.`,
    );
  // The default export's storeIndex only in its { graphs, storeIndex } form: a default export that
  // is the graphs map itself may hold a graph named "storeIndex".
  const storeIndex =
    mod.storeIndex ?? (mod.default?.graphs === undefined ? undefined : mod.default.storeIndex);
  // Graphs are checked one by one, and the index, when the worker is created.
  return storeIndex === undefined ? { graphs } : { graphs, storeIndex };
}

const USAGE =
  "Usage: layover-worker --graphs <module exporting graphs> (configured by the environment: see infra/README.md)";

main(async () => {
  let values: { graphs?: string[] | undefined };
  try {
    ({ values } = parseArgs({ options: { graphs: { type: "string", multiple: true } } }));
  } catch (error) {
    throw new InvalidConfigError(`${(error as Error).message}.\n${USAGE}`);
  }
  // One module: given twice, parseArgs would keep the last and the first would be served by no one.
  const [module, ...more] = values.graphs ?? [];
  if (module === undefined || module === "" || more.length > 0)
    throw new InvalidConfigError(
      more.length > 0
        ? `--graphs given ${more.length + 1} times: a worker serves one module (export every graph from it).\n${USAGE}`
        : USAGE,
    );
  const env = parseWorkerEnv(process.env);
  const logger = createLogger({
    level: env.LOG_LEVEL,
    logPayloads: env.LAYOVER_LOG_PAYLOADS,
    name: "layover-worker",
  });
  for (const warning of unreadEnvWarnings("worker", Object.keys(WorkerEnv.shape), process.env))
    logger.warn(warning);
  // pg_stat_activity tells the services' connections apart (pg reads PGAPPNAME; one given wins).
  process.env.PGAPPNAME ??=
    env.WORKER_ID === undefined ? "layover-worker" : `layover-worker:${env.WORKER_ID}`;
  const worker = createWorker({
    ...(await loadGraphs(module)),
    databaseUrl: env.DATABASE_URL,
    timeouts: postgresTimeouts(env),
    redisUrl: env.REDIS_URL,
    redisStartTimeoutMs: env.REDIS_START_TIMEOUT_MS,
    postgresStartTimeoutMs: env.POSTGRES_START_TIMEOUT_MS,
    schema: env.LAYOVER_SCHEMA,
    prefix: env.LAYOVER_PREFIX,
    concurrency: env.WORKER_CONCURRENCY,
    postgresLanes: env.WORKER_POSTGRES_LANES,
    budget: { steps: env.STEP_BUDGET_STEPS, ms: env.STEP_BUDGET_MS },
    markRunningAfterMs: env.MARK_RUNNING_AFTER_MS,
    eventResultBytes: env.RUN_EVENT_RESULT_BYTES,
    lockDurationMs: env.LOCK_DURATION_MS,
    stalledIntervalMs: env.STALLED_INTERVAL_MS,
    registerEveryMs: env.REGISTER_EVERY_MS,
    ...(env.INTERRUPT_TIMEOUT_MS !== undefined ? { interruptTimeoutMs: env.INTERRUPT_TIMEOUT_MS } : {}),
    ...(env.WORKER_ID !== undefined ? { workerId: env.WORKER_ID } : {}),
    ...(env.METRICS_PORT !== undefined ? { metricsPort: env.METRICS_PORT } : {}),
    logger,
  });
  // Its shutdown's lines (an uncaught error among them) say which worker.
  const workerLogger = logger.child({ workerId: worker.id });
  await runUntilSignalled(worker, workerLogger, { shutdownTimeoutMs: env.SHUTDOWN_TIMEOUT_MS });
});
