// What a job's stepper is configured with from the run it serves: the options its start, resume
// or continue was given (a resume or continue inherits what it did not give from the thread's
// start), over the served graph's own.
import { DEFAULT_RECURSION_LIMIT, type Durability, requestedDurability } from "@layover/graph";
import type { JobRun, RunConfig, RunRow } from "@layover/runtime";
import type { ServedGraph } from "./context.ts";

/** The stepper's config from the run: durability, breakpoints, context and recursion limit. */
export function runOptionsOf(run: JobRun, served: ServedGraph) {
  return {
    ...durabilityOf(run, served),
    ...breakpointsOf(run),
    ...contextOf(run),
    recursionLimit: recursionLimitOf(run, served),
  };
}

/**
 * The run's durability: its start's (or LangGraph's older `checkpointDuring: false`), else its
 * graph's; none leaves the engine's default. A resume or a continue may set its own.
 */
function durabilityOf(run: RunRow, served: ServedGraph): { durability?: Durability } {
  const config = runConfig(run);
  // Checked at start and resume (client) and when the worker loaded the graph module.
  const durability = (requestedDurability(config) as Durability | undefined) ?? served.durability;
  return durability === undefined ? {} : { durability };
}

/** The config a start, resume or continue was given (a continue's holds its run options only). */
function runConfig(run: RunRow): RunConfig | undefined {
  return run.input.config;
}

/** The breakpoints the run's start was given (checked by the client), over the graph's. */
function breakpointsOf(run: RunRow): Pick<RunConfig, "interruptBefore" | "interruptAfter"> {
  const config = runConfig(run);
  return {
    ...(config?.interruptBefore === undefined ? {} : { interruptBefore: config.interruptBefore }),
    ...(config?.interruptAfter === undefined ? {} : { interruptAfter: config.interruptAfter }),
  };
}

/**
 * The run's supersteps at most, which its nodes' subgraphs run under too: its start's
 * config.recursionLimit (a resume or continue inherits the thread's start's), else the served
 * graph's own (`graph.withConfig({ recursionLimit })`), else 25.
 */
export function recursionLimitOf(run: JobRun, served: ServedGraph): number {
  const own = "input" in run.input ? run.input.config?.recursionLimit : run.inherited_config?.recursionLimit;
  return own ?? served.graph.bound?.recursionLimit ?? DEFAULT_RECURSION_LIMIT;
}

/**
 * The run's `config.context`, for the nodes: its own (a start's, or a resume's given one), else
 * the thread's latest start's (a resume the sweep or an operator made, a continue).
 */
function contextOf(run: JobRun): { context?: unknown } {
  const context = runConfig(run)?.context ?? run.inherited_config?.context ?? undefined;
  return context === undefined || context === null ? {} : { context };
}
