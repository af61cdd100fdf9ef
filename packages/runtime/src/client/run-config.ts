import { jsonbProblem } from "@layover/checkpoint";
import { type Durability, InvalidInputError, isDurability } from "@layover/graph";
import { checkRunStreamMode, type RunStreamMode } from "../run-stream.ts";
import type { RunConfig } from "../sql/runs.ts";
import { knownKeys, objectArg } from "./object-arg.ts";

/** The options a resume or a continue sets for its run (`threads.resume(id, value, { context })`). */
export interface RunOptions {
  /** How the run stores its checkpoints. @defaultValue the graph's (the worker module's), else "async" */
  durability?: Durability;
  /** The run's `config.context`. @defaultValue the thread's latest start's */
  context?: Record<string, unknown>;
  /** What the run's workers report as it runs, for `runs.stream`. @defaultValue nothing */
  streamMode?: RunStreamMode | RunStreamMode[];
  /** Subgraphs' parts too, under their namespace (see RunConfig.streamSubgraphs). @defaultValue false */
  streamSubgraphs?: boolean;
}

/** The config of a run that `options` set, or none when they set nothing. */
export function runOptionsConfig(options: RunOptions): RunConfig | undefined {
  const given = {
    ...(options.durability === undefined ? {} : { durability: options.durability }),
    ...(options.context === undefined ? {} : { context: options.context }),
    ...(options.streamMode === undefined ? {} : { streamMode: options.streamMode }),
    ...(options.streamSubgraphs === undefined ? {} : { streamSubgraphs: options.streamSubgraphs }),
  };
  return Object.keys(given).length > 0 ? given : undefined;
}

const RUN_CONFIG_KEYS = [
  "recursionLimit",
  "durability",
  "checkpointDuring",
  "interruptBefore",
  "interruptAfter",
  "context",
  "streamMode",
  "streamSubgraphs",
] as const satisfies readonly (keyof RunConfig)[];

/** What to do instead of the LangGraph config keys a stored run cannot carry. */
const CONFIG_HINTS: Readonly<Record<string, string>> = {
  configurable:
    "a thread is runs.start's threadId, not configurable.thread_id; values for the nodes go in config.context",
  callbacks: "a graph's callbacks are given in the worker module: { graph, callbacks }",
};

/**
 * `config` with only the keys a run takes: a cron's config stored before keys were checked (a
 * LangGraph `tags` it never used) still starts its runs.
 */
export function knownRunConfig(config: RunConfig): RunConfig {
  return Object.fromEntries(
    Object.entries(config).filter(([key]) => (RUN_CONFIG_KEYS as readonly string[]).includes(key)),
  ) as RunConfig;
}

/** Refuses a run config the worker could not honour, before anything is written. */
export function checkConfig(config: RunConfig | undefined): void {
  if (config === undefined) return;
  objectArg(config, "config", "{ recursionLimit: 50 }");
  knownKeys(config, RUN_CONFIG_KEYS, "A run's config", "Nothing was written.", CONFIG_HINTS);
  const { recursionLimit, durability, checkpointDuring, context, streamMode, streamSubgraphs } = config;
  checkRunStreamMode(streamMode, "config.streamMode");
  if (streamSubgraphs !== undefined && typeof streamSubgraphs !== "boolean") {
    throw new InvalidInputError(
      `config.streamSubgraphs must be true or false; got ${JSON.stringify(streamSubgraphs)}. Nothing was written.`,
    );
  }
  if (context !== undefined && (typeof context !== "object" || context === null || Array.isArray(context))) {
    throw new InvalidInputError(
      `config.context must be an object of JSON values; got ${JSON.stringify(context) ?? String(context)}. Nothing was written.`,
    );
  }
  const nul = jsonbProblem(context, "config.context");
  if (nul !== undefined) throw new InvalidInputError(`${nul} Nothing was written.`);
  if (checkpointDuring !== undefined && typeof checkpointDuring !== "boolean") {
    throw new InvalidInputError(
      `config.checkpointDuring must be true or false; got ${JSON.stringify(checkpointDuring)}. Nothing was written.`,
    );
  }
  if (recursionLimit !== undefined && !(Number.isSafeInteger(recursionLimit) && recursionLimit > 0)) {
    throw new InvalidInputError(
      `config.recursionLimit must be a whole number above 0; got ${JSON.stringify(recursionLimit)}. Nothing was written.`,
    );
  }
  for (const option of ["interruptBefore", "interruptAfter"] as const) {
    const names = config[option];
    if (
      names !== undefined &&
      names !== "*" &&
      !(Array.isArray(names) && names.every((n) => typeof n === "string"))
    )
      throw new InvalidInputError(
        `config.${option} must be a list of node names or "*"; got ${JSON.stringify(names)}. Nothing was written.`,
      );
  }
  if (durability !== undefined && !isDurability(durability)) {
    throw new InvalidInputError(
      `config.durability must be "sync", "async" or "exit"; got ${JSON.stringify(durability)}. Nothing was written.`,
    );
  }
}

/** Refuses breakpoints naming a node the graph does not have (its workers registered its nodes). */
export function checkBreakpointNodes(
  config: RunConfig | undefined,
  graphId: string,
  nodes: readonly string[] | undefined,
): void {
  if (config === undefined || nodes === undefined) return;
  for (const option of ["interruptBefore", "interruptAfter"] as const) {
    const names = config[option];
    const unknown = Array.isArray(names) ? names.find((name) => !nodes.includes(name)) : undefined;
    if (unknown !== undefined)
      throw new InvalidInputError(
        `config.${option} names "${unknown}", which is not a node of graph "${graphId}" ` +
          `(its nodes: ${nodes.join(", ")}). Nothing was written.`,
      );
  }
}
