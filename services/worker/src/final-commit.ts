// A run's last checkpoint and its success, committed in one statement: the engine hands the
// worker the superstep after which nothing is planned (StepperOptions.storeFinal), and the
// worker stores it with settle_run as the put's `then` (PostgresSaver.putThen).
import type { PutCheckpointArgs } from "@layover/checkpoint";
import type { StepOutcome } from "@layover/graph";
import {
  finishInPut,
  finishRun,
  getRun,
  getThread,
  type RunRow,
  type Settled,
  type StepJob,
  settledByPut,
} from "@layover/runtime";
import type { Logger } from "pino";
import type { WorkerContext } from "./context.ts";

/**
 * One job's final commit: `steps` is what the job counts when the run ends (as finishRun is
 * given); `settled` what settle_run did, unknown after a retried put whose first attempt
 * committed.
 */
export interface FinalCommit {
  steps: number;
  /** The stored checkpoint's id, once stored. */
  checkpointId: string | undefined;
  settled: Settled | undefined;
}

/** The stepper's `storeFinal`: the put (with the supersteps held before it), with the run's success in the same statement. */
export function storeWithEnd(ctx: WorkerContext, run: RunRow, final: FinalCommit) {
  return async (chain: readonly PutCheckpointArgs[]) => {
    const last = (chain.at(-1) as PutCheckpointArgs).checkpoint.id;
    const end = { run, worker: ctx.workerId, checkpointId: last, steps: final.steps };
    final.settled = settledByPut(await ctx.saver.putThen(chain, finishInPut(ctx.db, end)));
    final.checkpointId = last;
  };
}

/** How a run that reached its end is settled: with its last checkpoint, else now. */
export function finalSettled(
  ctx: WorkerContext,
  log: Logger,
  run: RunRow,
  final: FinalCommit,
  outcome: StepOutcome,
  steps: number,
): Promise<Settled> {
  if (final.checkpointId !== undefined && final.settled !== undefined) return Promise.resolve(final.settled);
  if (final.checkpointId !== undefined) return settledUnseen(ctx, log, run, final.checkpointId);
  // The end was stored before this job (a head with nothing planned): settle it on its own.
  const args = { run, worker: ctx.workerId, checkpointId: outcome.checkpointId, steps };
  return finishRun(ctx.db, ctx.db.pool, args);
}

/**
 * What the first attempt of a final commit did, read from the run as Postgres has it now:
 * "success" when settle_run ended the run with the stored checkpoint, "cancelled" when it found
 * the run cancelled, "other" for anything else (nothing this worker should announce).
 */
export function unseenOutcome(
  after: Pick<RunRow, "status" | "checkpoint_id"> | undefined,
  storedCheckpointId: string,
): "success" | "cancelled" | "other" {
  if (after?.status === "cancelled") return "cancelled";
  return after?.status === "success" && after.checkpoint_id === storedCheckpointId ? "success" : "other";
}

/**
 * The run's last commit was retried after its answer was lost: the first attempt committed the
 * checkpoint and settle_run together, but what settle_run did is unknown. Postgres tells: a run
 * cancelled meanwhile stays cancelled (not applied: its thread is handed on as any cancelled
 * run's); a run that succeeded with this checkpoint has the thread's next run, if one now holds
 * it, enqueued (its job id dedupes); anything else is logged and announced by no one here.
 */
async function settledUnseen(
  ctx: WorkerContext,
  log: Logger,
  run: RunRow,
  storedCheckpointId: string,
): Promise<Settled> {
  log.info("the run's last commit was retried after a lost answer; reading what it did");
  const after = await getRun(ctx.db, ctx.db.pool, run.id);
  const outcome = unseenOutcome(after, storedCheckpointId);
  if (outcome !== "success") {
    if (outcome === "other")
      log.warn({ status: after?.status }, "the run did not end with its stored checkpoint; left as it is");
    return { applied: false, next: null };
  }
  return { applied: true, next: await threadsNext(ctx, run) };
}

/**
 * The run that now holds `run`'s thread, when another does and has not begun: the job a worker
 * that ended `run` would have enqueued (its job id dedupes).
 */
export async function threadsNext(
  ctx: WorkerContext,
  run: Pick<RunRow, "id" | "thread_id">,
): Promise<StepJob | null> {
  const thread = await getThread(ctx.db, ctx.db.pool, run.thread_id);
  const nextId = thread?.current_run_id;
  const next = nextId && nextId !== run.id ? await getRun(ctx.db, ctx.db.pool, nextId) : undefined;
  return next?.status === "pending"
    ? { threadId: next.thread_id, runId: next.id, checkpointId: next.checkpoint_id }
    : null;
}
