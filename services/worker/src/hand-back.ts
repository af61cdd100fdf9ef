// A job this worker's version of a graph cannot run (mid-way through a rolling deploy): handed
// back for a worker of another version, until its last attempt fails the run.
import type { CheckpointTuple } from "@layover/checkpoint";
import { isLayoverError, type MissingNodeError, unknownPlannedNodes } from "@layover/graph";
import type { RunRow } from "@layover/runtime";
import type { Logger } from "pino";
import type { ServedGraph, WorkerContext } from "./context.ts";
import { failBeforeStep, type JobResult, refusesValues } from "./job-end.ts";

/**
 * A job for a graph this worker's module does not export, or (`reason`) one this worker's version
 * of the graph cannot run and a worker of another may (mid-way through a rolling deploy): retried,
 * not held against the run; `reason`'s last attempt fails the run instead.
 */
export class GraphNotServedError extends Error {
  constructor(workerId: string, graphId: string, reason?: string) {
    super(
      reason === undefined
        ? `Worker ${workerId} does not serve graph "${graphId}"; the job is retried until a worker that serves it takes it. ` +
            "Deploy that graph's module to the workers."
        : `Worker ${workerId}'s version of graph "${graphId}" ${reason}; the job is retried in case a worker of ` +
            "another version takes it, and its last attempt fails the run.",
    );
    this.name = "GraphNotServedError";
  }
}

/**
 * Hands the job back while the run goes on from a head that plans nodes this worker's version of
 * the graph lacks (a start's first job does not: it begins a new superstep from its input). Mid-way
 * through a rolling deploy a worker of the version that has them may take it; without one, the
 * job's last attempt fails the run with MissingNodeError, as the engine reports it.
 */
export async function handBackMissingNodes(
  ctx: WorkerContext,
  served: ServedGraph,
  run: RunRow,
  head: Promise<CheckpointTuple | undefined>,
): Promise<void> {
  if (!run.prepared && "input" in run.input) return;
  const tuple = await head;
  const nodes =
    tuple === undefined ? [] : unknownPlannedNodes(served.graph.spec, tuple.checkpoint, tuple.pendingWrites);
  if (nodes.length > 0)
    throw new GraphNotServedError(
      ctx.workerId,
      run.graph_id,
      `has no node ${nodes.map((node) => `"${node}"`).join(", ")}, which the thread waits to run`,
    );
}

/**
 * Hands the job back when this worker's version of the graph refuses the input (or a resume's
 * update) producers checked against another version's registration: mid-way through a rolling
 * deploy, an input only the newer version takes. The last attempt fails the run with the refusal.
 */
export async function handBackRefusedInput(ctx: WorkerContext, run: RunRow, refusal: unknown): Promise<void> {
  if (!refusesValues(refusal)) return;
  // Known since the last heartbeat, or found now: a version registered since may have taken over.
  if (!ctx.superseded.has(run.graph_id)) await ctx.registerAgain();
  if (!ctx.superseded.has(run.graph_id)) return;
  const reason = refusal instanceof Error ? refusal.message : String(refusal);
  throw new GraphNotServedError(
    ctx.workerId,
    run.graph_id,
    `refuses the run's input, which producers checked against another version (${reason})`,
  );
}

/**
 * Hands the job back when its superstep failed with MissingNodeError from a subgraph a node of
 * the graph is (at every level down to it): a question asked inside it by a node this worker's
 * version lacks, which no check before the step sees. Running such a task again runs none of
 * the user's code before the subgraph's head (it resumes there), and what the superstep's other
 * tasks finished is kept, so a worker of the version that has the node can take it. A subgraph
 * called from a node's code is not handed back (the node's code before the call, its side
 * effects, would run at each offer): the run fails, as the graph's own would.
 */
export function handBackFailedStep(
  ctx: WorkerContext,
  served: ServedGraph,
  run: RunRow,
  error: unknown,
  last: boolean,
): void {
  if (last || !isLayoverError(error, "MISSING_NODE")) return;
  if (!subgraphNodesAll(served, (error as MissingNodeError).ns)) return;
  throw new GraphNotServedError(
    ctx.workerId,
    run.graph_id,
    `cannot run on where the thread waits inside a subgraph (${(error as Error).message})`,
  );
}

/**
 * A run the graph refuses: handed back when producers checked it against another version (a
 * rolling deploy: a worker of that version may take it), else, and on the last attempt, failed.
 */
export async function refusedRun(
  ctx: WorkerContext,
  log: Logger,
  run: RunRow,
  refusal: unknown,
  last: boolean,
): Promise<JobResult> {
  if (!last) await handBackRefusedInput(ctx, run, refusal);
  return failBeforeStep(ctx, log, run, refusal);
}

/** Whether each segment of `ns` (`node:taskId|…`) is a node that is a compiled subgraph (none for the root's "": false). */
function subgraphNodesAll(served: ServedGraph, ns: string): boolean {
  if (ns === "") return false;
  let spec = served.graph.spec;
  for (const segment of ns.split("|")) {
    const subgraph = spec.nodes.get(segment.slice(0, segment.indexOf(":")))?.subgraph;
    if (subgraph === undefined) return false;
    spec = subgraph.spec;
  }
  return true;
}
