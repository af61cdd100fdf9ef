// A job's last commit in one statement: the engine hands the worker the supersteps it held and
// the one after which nothing is planned (StepperOptions.storeFinal), or the supersteps a run
// paused after with their pending writes (StepperOptions.storePause), and the worker stores
// them with settle_run as the put's `then` (PostgresSaver.putThen): the run ends, or parks.
import type { PutCheckpointArgs } from "@layover/checkpoint";
import type { GuardedSaver, PutThen } from "@layover/checkpoint-postgres";
import type { StepOutcome, StorePause } from "@layover/graph";
import {
  finishInPut,
  finishRun,
  getRun,
  getThread,
  parkInPut,
  parkRun,
  type RunRow,
  type Settled,
  type StepJob,
  settledByPut,
} from "@layover/runtime";
import type { Logger } from "pino";
import type { ServedGraph, WorkerContext } from "./context.ts";
import { interruptRows, parkRefusal } from "./park.ts";

/**
 * One job's final commit: `steps` is what the job counts when the run ends or parks (as
 * finishRun and parkRun are given); `settled` what settle_run did, unknown after a retried put
 * whose first attempt committed.
 */
export interface FinalCommit {
  steps: number;
  /** The stored checkpoint's id, once stored. */
  checkpointId: string | undefined;
  settled: Settled | undefined;
  /** The status settle_run gave the run: "success" (storeWithEnd) or "interrupted" (storeWithPark). */
  status?: "success" | "interrupted";
  /** When the final commit was sent (performance.now()). */
  sentAt?: number;
}

/**
 * The stepper's `storeFinal`: the put (with the supersteps held before it), with the run's
 * success in the same statement, through the job's `saver` (fenced by the run holding its thread).
 */
export function storeWithEnd(ctx: WorkerContext, saver: GuardedSaver, run: RunRow, final: FinalCommit) {
  return async (chain: readonly PutCheckpointArgs[]) => {
    const last = (chain.at(-1) as PutCheckpointArgs).checkpoint.id;
    // The superstep this put stores is the job's last, and counts too.
    const end = { run, worker: ctx.workerId, checkpointId: last, steps: final.steps + 1 };
    final.sentAt = performance.now();
    final.settled = settledByPut(await saver.putThen(chain, finishInPut(ctx.db, end)));
    final.checkpointId = last;
    final.status = "success";
  };
}

/** A `then` that does nothing: the supersteps and their writes, stored together without a park. */
const STORE_ONLY = { name: "store_only", sql: "SELECT true AS stored", values: [] };

/**
 * The stepper's `storePause`: the held supersteps and their writes, with the run parked in the
 * same statement, through the job's `saver` (as storeWithEnd). Interrupts that cannot park (see
 * parkRefusal) are stored without the park: the worker fails the run after.
 */
export function storeWithPark(
  ctx: WorkerContext,
  saver: GuardedSaver,
  { served, run }: { served: ServedGraph; run: RunRow },
  final: FinalCommit,
): StorePause {
  return async (chain, writes, pause) => {
    // Nothing new to store (a node asked again what its head already holds, with no answer):
    // pauseSettled parks the run on its own.
    if (chain.length === 0 && writes.length === 0) return;
    // The head it pauses at is stored already when nothing was held: the writes go alone.
    const store = <R>(then: PutThen) =>
      chain.length > 0 ? saver.putThen<R>(chain, then, writes) : saver.putWritesThen<R>(writes, then);
    const interrupts = interruptRows(ctx, served, run, pause);
    if (parkRefusal(interrupts) !== undefined) {
      await store(STORE_ONLY);
      return;
    }
    const park = {
      run,
      worker: ctx.workerId,
      checkpointId: pause.checkpointId,
      steps: final.steps,
      interrupts,
    };
    final.sentAt = performance.now();
    final.settled = settledByPut(await store(parkInPut(ctx.db, park)));
    final.checkpointId = pause.checkpointId;
    final.status = "interrupted";
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
  if (final.status === "success" && final.checkpointId !== undefined)
    return final.settled ? Promise.resolve(final.settled) : settledUnseen(ctx, log, run, final);
  // The end was stored before this job (a head with nothing planned): settle it on its own.
  const args = { run, worker: ctx.workerId, checkpointId: outcome.checkpointId, steps };
  return finishRun(ctx.db, ctx.db.pool, args);
}

/** How a run that paused is parked: with the supersteps it paused after (storeWithPark), else now. */
export function pauseSettled(
  ctx: WorkerContext,
  log: Logger,
  final: FinalCommit,
  park: Parameters<typeof parkRun>[2],
): Promise<Settled> {
  if (final.status === "interrupted" && final.checkpointId === park.checkpointId)
    return final.settled ? Promise.resolve(final.settled) : settledUnseen(ctx, log, park.run, final);
  return parkRun(ctx.db, ctx.db.pool, park);
}

/**
 * What the first attempt of a final commit did, read from the run as Postgres has it now:
 * "settled" when settle_run gave the run `status` with the stored checkpoint, "cancelled" when
 * it found the run cancelled, "other" for anything else (nothing this worker should announce).
 */
export function unseenOutcome(
  after: Pick<RunRow, "status" | "checkpoint_id"> | undefined,
  storedCheckpointId: string,
  status: "success" | "interrupted" = "success",
): "settled" | "cancelled" | "other" {
  if (after?.status === "cancelled") return "cancelled";
  return after?.status === status && after.checkpoint_id === storedCheckpointId ? "settled" : "other";
}

/**
 * The run's last commit was retried after its answer was lost: the first attempt committed the
 * checkpoint and settle_run together, but what settle_run did is unknown. Postgres tells: a run
 * cancelled meanwhile stays cancelled (not applied: its thread is handed on as any cancelled
 * run's); a run that ended (or parked) with this checkpoint has the thread's next run, if one
 * now holds it, enqueued (its job id dedupes); anything else is logged and announced by no one.
 */
async function settledUnseen(
  ctx: WorkerContext,
  log: Logger,
  run: RunRow,
  final: FinalCommit,
): Promise<Settled> {
  log.info("the run's last commit was retried after a lost answer; reading what it did");
  const after = await getRun(ctx.db, ctx.db.pool, run.id);
  const outcome = unseenOutcome(after, final.checkpointId as string, final.status);
  if (outcome !== "settled") {
    if (outcome === "other")
      log.warn({ status: after?.status }, "the run did not settle with its stored checkpoint; left as it is");
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
