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
  stored: boolean;
  settled: Settled | undefined;
}

/** The stepper's `storeFinal`: the put, with the run's success in the same statement. */
export function storeWithEnd(ctx: WorkerContext, run: RunRow, final: FinalCommit) {
  return async (args: PutCheckpointArgs) => {
    const end = { run, worker: ctx.workerId, checkpointId: args.checkpoint.id, steps: final.steps };
    final.settled = settledByPut(await ctx.saver.putThen(args, finishInPut(ctx.db, end)));
    final.stored = true;
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
  if (final.stored && final.settled !== undefined) return Promise.resolve(final.settled);
  if (final.stored) return settledUnseen(ctx, log, run);
  // The end was stored before this job (a head with nothing planned): settle it on its own.
  const args = { run, worker: ctx.workerId, checkpointId: outcome.checkpointId, steps };
  return finishRun(ctx.db, ctx.db.pool, args);
}

/**
 * The run's last commit was retried after its answer was lost: the first attempt committed the
 * checkpoint and settle_run together, but what settle_run did is unknown. Postgres tells: a run
 * cancelled meanwhile stays cancelled (not applied: its thread is handed on as any cancelled
 * run's), else it succeeded, and the thread's next run, if one now holds it, is enqueued (its
 * job id dedupes).
 */
async function settledUnseen(ctx: WorkerContext, log: Logger, run: RunRow): Promise<Settled> {
  log.info("the run's last commit was retried after a lost answer; reading what it did");
  const after = await getRun(ctx.db, ctx.db.pool, run.id);
  if (after?.status === "cancelled") return { applied: false, next: null };
  const thread = await getThread(ctx.db, ctx.db.pool, run.thread_id);
  const nextId = thread?.current_run_id;
  const next = nextId && nextId !== run.id ? await getRun(ctx.db, ctx.db.pool, nextId) : undefined;
  const job: StepJob | null =
    next?.status === "pending"
      ? { threadId: next.thread_id, runId: next.id, checkpointId: next.checkpoint_id }
      : null;
  return { applied: true, next: job };
}
