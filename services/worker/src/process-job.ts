import type { CheckpointTuple, PutCheckpointArgs } from "@layover/checkpoint";
import type { GuardedSaver } from "@layover/checkpoint-postgres";
import type { Emitter, StepOutcome, Stepper } from "@layover/graph";
import {
  holdsThreadGuard,
  type JobLock,
  type JobRun,
  markRunning,
  type RunRow,
  readJobRunWithHead,
  releaseCancelled,
  type StepJob,
} from "@layover/runtime";
import type { Logger } from "pino";
import type { ServedGraph, WorkerContext } from "./context.ts";
import {
  type FinalCommit,
  finalSettled,
  pauseSettled,
  storeWithEnd,
  storeWithPark,
  threadsNext,
} from "./final-commit.ts";
import { GraphNotServedError, handBackFailedStep, handBackMissingNodes, refusedRun } from "./hand-back.ts";
import {
  announce,
  fail,
  type JobResult,
  leaveJob,
  lockLost,
  refusesRun,
  settle,
  stoppedResult,
  unlessStopped,
} from "./job-end.ts";
import { isJobLockLost, type JobLoss } from "./job-loss.ts";
import { lockFence } from "./lock-fence.ts";
import { interruptRows, parkRefusal } from "./park.ts";
import { prepareRun } from "./prepare-run.ts";
import { recursionLimitOf, runOptionsOf } from "./run-options.ts";
import { JobStream } from "./run-stream.ts";

export { GraphNotServedError } from "./hand-back.ts";
export type { JobResult } from "./job-end.ts";

/** Where a job stands among its delivery attempts: the last one ends the run instead of handing it back. */
export interface JobAttempt {
  last: boolean;
  /** The job's BullMQ lock, when BullMQ gave one: the run's stream takes the job's chunks only while it holds. */
  lock?: JobLock;
  /** When BullMQ handed this worker the job (performance.now()): a stand-still since may have lapsed its lock. */
  startedAt?: number;
  /** Whether the job was found lost (job-loss.ts): its nodes' signal aborts, and it stores nothing more. */
  loss: JobLoss;
}

/**
 * Advances one thread for one job: read the run and the thread's head (at once), record the
 * run's input once, then step; every superstep after that is one commit. A job still busy after
 * `markRunningAfterMs` shows its run as running; a quicker one goes straight to its result.
 */
export async function processStepJob(
  ctx: WorkerContext,
  job: StepJob,
  log: Logger,
  attempt: JobAttempt,
): Promise<JobResult> {
  // Watched from before the run is read: a cancel announced after the read is not missed.
  const untrack = ctx.cancels.track(job.runId);
  const stream = new JobStream(ctx, { runId: job.runId, lock: attempt.lock }, log);
  let result: JobResult | undefined;
  try {
    result = await runJob(ctx, job, log, { attempt, stream });
    if (result === "cancelled")
      log.info(
        "run cancelled: its job stopped; the supersteps it committed are kept, the thread is handed on",
      );
    // A cancelled run's thread waits for its job to stop: hand it on now (a no-op unless the
    // run is cancelled and still holds its thread).
    if (result === "cancelled" || result === "stale" || result === "conflict" || result === "lock_lost")
      await handOnCancelled(ctx, job, log);
    return result;
  } finally {
    await stream.close(result);
    untrack();
  }
}

async function handOnCancelled(ctx: WorkerContext, job: StepJob, log: Logger): Promise<void> {
  const next = await releaseCancelled(ctx.db, job);
  if (next === null) return;
  log.info({ nextRunId: next.runId }, "cancelled run stopped; its thread goes to the next run");
  await ctx.dispatcher.enqueue(next);
}

async function enqueueThreadsNext(ctx: WorkerContext, run: RunRow, log: Logger): Promise<void> {
  const next = await threadsNext(ctx, run);
  if (next === null) return;
  log.info({ nextRunId: next.runId }, "run already ended; its thread's next run is enqueued again");
  await ctx.dispatcher.enqueue(next);
}

async function runJob(
  ctx: WorkerContext,
  job: StepJob,
  log: Logger,
  { attempt, stream }: { attempt: JobAttempt; stream: JobStream },
): Promise<JobResult> {
  // The thread's head is read with the run, in one statement (every served graph uses
  // ctx.saver): most jobs step, and this saves them a round trip.
  const read = await readJobRunWithHead(ctx.db, ctx.saver, job);
  const run = read.run;
  if (run === undefined) return "stale";
  if (run.status !== "pending" && run.status !== "running") {
    // A redelivered job of a run that ended: its worker may have died (or lost its statement's
    // answer) before it enqueued the thread's next run and announced the end (a cancelled run's
    // thread is handed on by handOnCancelled, and its cancel was announced by the canceller).
    if (run.status !== "cancelled") {
      await enqueueThreadsNext(ctx, run, log);
      await announce(ctx, log, run, run.status);
    }
    await stream.ended(run);
    return "stale";
  }
  if (!run.holds_thread) return "stale";
  if (run.prepared && job.checkpointId !== run.checkpoint_id) {
    // A duplicate of an older step: the run has moved on. Make sure its current step is queued.
    await ctx.dispatcher.enqueue({ threadId: run.thread_id, runId: run.id, checkpointId: run.checkpoint_id });
    return "stale";
  }
  const served = ctx.graphs.get(run.graph_id);
  // Another replica may (a rolling deploy that adds a graph): the job fails this attempt and
  // BullMQ retries it, then reconciliation, until a worker that serves the graph takes it.
  if (served === undefined) throw new GraphNotServedError(ctx.workerId, run.graph_id);
  const head = job.threadId === run.thread_id ? read.head : undefined;
  if (!attempt.last && head !== undefined) await handBackMissingNodes(ctx, served, run, head);
  const marking = run.status === "pending" ? markRunningLater(ctx, run, log) : undefined;
  try {
    const final: FinalCommit = { steps: 0, checkpointId: undefined, settled: undefined };
    // Every commit of the job, subgraphs' and the last included, lands only while the run holds
    // its thread: a job that goes on after its run lost it (a worker frozen past its lock while
    // the run was cancelled and its thread handed on) stores nothing, as a lost compare-and-set.
    // And only while the job still holds its lock, as far as this process can tell (lock-fence.ts).
    const { loss } = attempt;
    const fence = lockFence(ctx, attempt.lock, { startedAt: attempt.startedAt ?? performance.now(), loss });
    const saver = ctx.saver.guarded(holdsThreadGuard(ctx.db, run), fence, (chain) => countStored(ctx, chain));
    const emit = stream.open(run);
    const signal = signalOf(ctx, job, loss);
    let stepper: Stepper;
    try {
      stepper = stepperOf(ctx, { served, run, head, final, saver, emit, signal });
    } catch (error) {
      // The graph refuses the run's config: an interruptBefore naming a node only another version has.
      if (!refusesRun(error)) throw error;
      return await refusedRun(ctx, log, run, error, attempt.last);
    }
    const refusal = run.prepared ? undefined : await prepareOrRefusal(stepper, run);
    if (refusal !== undefined) return await refusedRun(ctx, log, run, refusal, attempt.last);
    return await advance(ctx, served, run, { stepper, final, saver, stream, loss, last: attempt.last }, log);
  } finally {
    await marking?.cancel();
  }
}

/**
 * The engine's stepper for the run's thread, from the head read with the run, storing through
 * the job's `saver` (fenced by the run holding its thread): its last commit (an end or a park)
 * is stored with the run's transition, in one statement.
 */
function stepperOf(
  ctx: WorkerContext,
  {
    served,
    run,
    head,
    final,
    saver,
    emit,
    signal,
  }: {
    served: ServedGraph;
    run: JobRun;
    head: Promise<CheckpointTuple | undefined> | undefined;
    final: FinalCommit;
    saver: GuardedSaver;
    emit: Emitter | undefined;
    signal: AbortSignal;
  },
): Stepper {
  return served.graph.withCheckpointer(saver).stepper(
    {
      configurable: { thread_id: run.thread_id },
      metadata: { run_id: run.id },
      ...runOptionsOf(run, served),
      ...(served.callbacks === undefined ? {} : { callbacks: served.callbacks }),
      // Aborts when the run is cancelled or the job lost: its running nodes see it (config.signal).
      signal,
    },
    {
      ...(head !== undefined ? { head } : {}),
      storeFinal: storeWithEnd(ctx, saver, run, final),
      storePause: storeWithPark(ctx, saver, { served, run }, final),
      holdAsync: true,
      seed: run.id,
      // The thread's Postgres is the one saver every worker shares, subgraphs included.
      subgraphsShareSaver: true,
      ...(emit === undefined ? {} : { emit }),
    },
  );
}

/**
 * Counts the supersteps of the run's graph in a chain its job stored (a subgraph's and an input or
 * update checkpoint are not): as they are stored, so a superstep held in memory by a job that then
 * lost its run or its lock is counted once, by the job that stores it.
 */
function countStored(ctx: WorkerContext, chain: readonly PutCheckpointArgs[]): void {
  let supersteps = 0;
  for (const args of chain) if (args.ns === "" && args.metadata.source === "loop") supersteps += 1;
  if (supersteps > 0) ctx.metrics.supersteps.inc(supersteps);
}

/** A cancelled run's job ends: the supersteps it made are kept (those held in memory stored, if it still can). */
async function keepingMadeSupersteps(stepper: Stepper, log: Logger): Promise<JobResult> {
  await stepper.flush().catch((error: unknown) => log.info({ err: error }, "held supersteps not stored"));
  return "cancelled";
}

/**
 * A superstep failed while its run was cancelled: most likely a node whose call its aborted
 * signal stopped. Not the run's failure (it is cancelled): logged at info, and the job ends.
 */
async function cancelledMidStep(log: Logger, stepper: Stepper, error: unknown): Promise<JobResult> {
  log.info({ err: error }, "run cancelled; its running superstep stopped");
  return keepingMadeSupersteps(stepper, log);
}

/**
 * The nodes' signal (`config.signal`): it aborts when the run is cancelled (its reason a
 * RunCancelledSignal) or the job is lost (a JobLostSignal), whichever comes first.
 */
function signalOf(ctx: WorkerContext, job: StepJob, loss: JobLoss): AbortSignal {
  const cancel = ctx.cancels.signal(job.runId);
  return cancel === undefined ? loss.signal : AbortSignal.any([cancel, loss.signal]);
}

/**
 * Records the run's input once; returns the engine's refusal of it (an input only the graph's
 * own schema rejects, an answer to an interrupt the graph no longer has). Other errors throw.
 */
async function prepareOrRefusal(stepper: Stepper, run: RunRow): Promise<unknown> {
  try {
    await prepareRun(stepper, run);
    return undefined;
  } catch (error) {
    if (refusesRun(error)) return error;
    throw error;
  }
}

/** Marks the run running once the job has taken `markRunningAfterMs`; `cancel` stops or awaits it. */
function markRunningLater(ctx: WorkerContext, run: RunRow, log: Logger) {
  let marked: Promise<unknown> | undefined;
  const timer = setTimeout(() => {
    marked = markRunning(ctx.db, ctx.db.pool, run.id, ctx.workerId).catch((error: unknown) =>
      log.warn({ err: error }, "could not mark the run running; it shows pending until it settles"),
    );
  }, ctx.markRunningAfterMs);
  return {
    async cancel() {
      clearTimeout(timer);
      await marked;
    },
  };
}

/** Steps the thread within the budget, then enqueues the next step, parks or finishes the run. */
async function advance(
  ctx: WorkerContext,
  served: ServedGraph,
  run: JobRun,
  {
    stepper,
    final,
    saver,
    stream,
    loss,
    last,
  }: {
    stepper: Stepper;
    final: FinalCommit;
    saver: GuardedSaver;
    stream: JobStream;
    loss: JobLoss;
    last: boolean;
  },
  log: Logger,
): Promise<JobResult> {
  const started = performance.now();
  const limit = recursionLimitOf(run, served);
  let steps = 0;
  // The head each superstep starts from: a pause past a committed superstep (interruptAfter) counts it.
  let at = (await stepper.head())?.checkpointId;
  for (;;) {
    if (ctx.cancels.isCancelled(run.id)) {
      log.info("run cancelled; stopped before its next superstep");
      return await keepingMadeSupersteps(stepper, log);
    }
    if (loss.lost) return lockLost(log, loss.signal.reason);
    const timer = ctx.metrics.stepSeconds.startTimer();
    final.steps = steps;
    // Observed whatever comes of it, a step that throws (Postgres away) included.
    const stepped = await unlessStopped(log, stepper, run, stepper.step()).finally(timer);
    const stopped = stoppedResult(ctx, log, run, stepped);
    if (stopped !== undefined) return stopped;
    const outcome = stepped as StepOutcome;
    const committed = outcome.checkpointId !== at;
    at = outcome.checkpointId;
    if (outcome.status === "next") {
      steps += 1;
      const over = run.steps + steps > limit;
      if (!over && steps < ctx.budget.steps && performance.now() - started < ctx.budget.ms) continue;
      // The job's chunks are in Redis before the run's next job can add its own.
      await stream.flush();
      return leaveJob(ctx, log, run, { stepper, saver, outcome, steps, overLimit: over ? limit : undefined });
    }
    const stepLog = log.child({ step: outcome.step, checkpointId: outcome.checkpointId });
    if (outcome.status === "interrupted") {
      const interrupts = interruptRows(ctx, served, run, outcome);
      const refused = parkRefusal(interrupts);
      if (refused !== undefined) return fail(ctx, stepLog, run, outcome, steps, refused);
      const counted = steps + (committed ? 1 : 0);
      const args = {
        run,
        worker: ctx.workerId,
        checkpointId: outcome.checkpointId,
        steps: counted,
        interrupts,
      };
      const parked = pauseSettled(ctx, stepLog, final, args);
      const since = final.sentAt ?? performance.now();
      return settle(ctx, stepLog, run, parked, "parked", { checkpoint: outcome.checkpoint, since });
    }
    if (outcome.status === "failed" && ctx.cancels.isCancelled(run.id))
      return await cancelledMidStep(stepLog, stepper, outcome.error);
    // The job lost meanwhile (its nodes' signal aborted, no error handler ran), or a node's own
    // commit (a subgraph's) refused for it: the run is the other worker's.
    if (outcome.status === "failed" && (loss.lost || isJobLockLost(outcome.error)))
      return lockLost(stepLog, outcome.error);
    if (outcome.status === "failed") {
      handBackFailedStep(ctx, served, run, outcome.error, last);
      return fail(ctx, stepLog, run, outcome, steps, outcome.error);
    }
    const ended = finalSettled(ctx, stepLog, run, final, outcome, steps);
    const since = final.sentAt ?? performance.now();
    return settle(ctx, stepLog, run, ended, "finished", { checkpoint: outcome.checkpoint, since });
  }
}
