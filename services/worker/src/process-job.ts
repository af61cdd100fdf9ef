import {
  type Durability,
  GraphRecursionError,
  isCheckpointConflict,
  isLayoverError,
  requestedDurability,
  type StepOutcome,
  type Stepper,
} from "@layover/graph";
import {
  finishRun,
  type JobRun,
  markRunning,
  nulProblem,
  type RunRow,
  readJobRunWithHead,
  recordProgress,
  refuseResume,
  releaseCancelled,
  type Settled,
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
import { interruptRows } from "./park.ts";
import { prepareRun } from "./prepare-run.ts";

/** What a job did; logged, and returned as the BullMQ job's result. */
export type JobResult = "stale" | "conflict" | "cancelled" | "enqueued" | "parked" | "finished" | "failed";

const DEFAULT_RECURSION_LIMIT = 25;

/** A job for a graph this worker's module does not export: retried, not held against the run. */
export class GraphNotServedError extends Error {
  constructor(workerId: string, graphId: string) {
    super(
      `Worker ${workerId} does not serve graph "${graphId}"; the job is retried until a worker that serves it takes it. ` +
        "Deploy that graph's module to the workers.",
    );
    this.name = "GraphNotServedError";
  }
}

/**
 * Errors with which the engine refuses a run's input or answers: the same on every attempt, so
 * the run ends with them. Anything else (Postgres or Redis unreachable) fails the job, and
 * BullMQ retries it.
 */
const REFUSALS: ReadonlySet<string> = new Set([
  "INVALID_INPUT",
  "INVALID_UPDATE",
  "NOT_SERIALIZABLE",
  "NOT_INTERRUPTED",
  "UNKNOWN_INTERRUPT",
  "AMBIGUOUS_RESUME",
  "INVALID_RESUME",
  "EMPTY_COMMAND",
]);

function refusesRun(error: unknown): boolean {
  return isLayoverError(error) && REFUSALS.has(error.code);
}

/** A value the runtime's tables cannot hold: the run fails (retrying would fail the same way). */
function notStorable(message: string): Error {
  return Object.assign(new Error(message), { name: "NotSerializableError", code: "NOT_SERIALIZABLE" });
}

/** A run's error as stored (jsonb): NUL characters, which Postgres cannot store, replaced. */
function errorRecord(error: unknown): NonNullable<RunRow["error"]> {
  const e = error as { name?: string; message?: string; code?: string } | undefined;
  const clean = (text: string) => text.replaceAll("\u0000", "\uFFFD");
  return {
    name: clean(e?.name ?? "Error"),
    message: clean(e?.message ?? String(error)),
    ...(e?.code ? { code: clean(String(e.code)) } : {}),
  };
}

/**
 * Advances one thread for one job: read the run and the thread's head (at once), record the
 * run's input once, then step; every superstep after that is one commit. A job still busy after
 * `markRunningAfterMs` shows its run as running; a quicker one goes straight to its result.
 */
export async function processStepJob(ctx: WorkerContext, job: StepJob, log: Logger): Promise<JobResult> {
  // Watched from before the run is read: a cancel announced after the read is not missed.
  const untrack = ctx.cancels.track(job.runId);
  try {
    const result = await runJob(ctx, job, log);
    // A cancelled run's thread waits for its job to stop: hand it on now (a no-op unless the
    // run is cancelled and still holds its thread).
    if (result === "cancelled" || result === "stale" || result === "conflict")
      await handOnCancelled(ctx, job, log);
    return result;
  } finally {
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

async function runJob(ctx: WorkerContext, job: StepJob, log: Logger): Promise<JobResult> {
  // The thread's head is read with the run, in one statement (every served graph uses
  // ctx.saver): most jobs step, and this saves them a round trip.
  const read = await readJobRunWithHead(ctx.db, ctx.saver, job);
  const run = read.run;
  if (run === undefined) return "stale";
  if (run.status !== "pending" && run.status !== "running") {
    // A redelivered job of a run that ended: its worker may have died before it enqueued the
    // thread's next run (a cancelled run's thread is handed on by handOnCancelled).
    if (run.status !== "cancelled") await enqueueThreadsNext(ctx, run, log);
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
  const marking = run.status === "pending" ? markRunningLater(ctx, run, log) : undefined;
  try {
    const final: FinalCommit = { steps: 0, checkpointId: undefined, settled: undefined };
    const stepper = served.graph.stepper(
      {
        configurable: { thread_id: run.thread_id },
        metadata: { run_id: run.id },
        ...durabilityOf(run, served),
        ...contextOf(run),
      },
      {
        ...(job.threadId === run.thread_id ? { head: read.head } : {}),
        storeFinal: storeWithEnd(ctx, run, final),
        storePause: storeWithPark(ctx, served, run, final),
        holdAsync: true,
        seed: run.id,
      },
    );
    const refusal = run.prepared ? undefined : await prepareOrRefusal(stepper, run);
    if (refusal !== undefined) return await failBeforeStep(ctx, log, run, refusal);
    return await advance(ctx, served, run, { stepper, final }, log);
  } finally {
    await marking?.cancel();
  }
}

/**
 * The run's durability: its start's (or LangGraph's older `checkpointDuring: false`), else its
 * graph's; none leaves the engine's default. A resume may set its own; a continue takes the graph's.
 */
function durabilityOf(run: RunRow, served: ServedGraph): { durability?: Durability } {
  const config = runConfig(run);
  // Checked at start and resume (client) and when the worker loaded the graph module.
  const durability = (requestedDurability(config) as Durability | undefined) ?? served.durability;
  return durability === undefined ? {} : { durability };
}

/** The config a start or resume was given; a continue past a breakpoint has none. */
function runConfig(run: RunRow) {
  return "input" in run.input || "resume" in run.input ? run.input.config : undefined;
}

/**
 * The run's `config.context`, for the nodes: its own (a start's, or a resume's given one), else
 * the thread's latest start's (a resume the sweep or an operator made, a continue).
 */
function contextOf(run: JobRun): { context?: unknown } {
  const context = runConfig(run)?.context ?? run.inherited_context ?? undefined;
  return context === undefined || context === null ? {} : { context };
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

/**
 * Refusals of what a resume carries (an update only the graph's own schema rejects): the graph
 * never got it and still waits, so a person may answer again. Refusals of the interrupts
 * themselves (NOT_INTERRUPTED, UNKNOWN_INTERRUPT: the graph no longer asks) are not.
 */
const REFUSED_ANSWERS: ReadonlySet<string> = new Set([
  "INVALID_RESUME",
  "INVALID_INPUT",
  "INVALID_UPDATE",
  "NOT_SERIALIZABLE",
]);

/**
 * Ends a run that cannot reach a superstep: the engine refused its input or answers. A resume
 * refused for what it carried gives its answers back: the thread waits for them again.
 */
function failBeforeStep(ctx: WorkerContext, log: Logger, run: RunRow, error: unknown): Promise<JobResult> {
  if (run.kind === "resume" && isLayoverError(error) && REFUSED_ANSWERS.has(error.code)) {
    log.warn({ err: error }, "resume refused by the graph; its interrupts wait for an answer again");
    const args = { run, worker: ctx.workerId, error: errorRecord(error) };
    return settle(ctx, log, run, refuseResume(ctx.db, ctx.db.pool, args), "failed");
  }
  log.warn({ err: error }, "run failed before its first superstep");
  const args = {
    run,
    worker: ctx.workerId,
    checkpointId: run.checkpoint_id,
    steps: 0,
    error: errorRecord(error),
  };
  return settle(ctx, log, run, finishRun(ctx.db, ctx.db.pool, args), "failed");
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
  run: RunRow,
  { stepper, final }: { stepper: Stepper; final: FinalCommit },
  log: Logger,
): Promise<JobResult> {
  const started = performance.now();
  const limit =
    ("input" in run.input ? run.input.config?.recursionLimit : undefined) ?? DEFAULT_RECURSION_LIMIT;
  let steps = 0;
  for (;;) {
    if (ctx.cancels.isCancelled(run.id)) {
      log.info("run cancelled; stopped before its next superstep");
      // The supersteps it made are kept: store those held in memory, if it still can.
      await stepper.flush().catch((error: unknown) => log.info({ err: error }, "held supersteps not stored"));
      return "cancelled";
    }
    const timer = ctx.metrics.stepSeconds.startTimer();
    final.steps = steps;
    const stepped = await unlessStopped(log, stepper, run, stepper.step());
    timer();
    const stopped = stoppedResult(ctx, log, run, stepped);
    if (stopped !== undefined) return stopped;
    let outcome = stepped as StepOutcome;
    if (outcome.status === "next") {
      ctx.metrics.supersteps.inc();
      steps += 1;
      const over = run.steps + steps > limit;
      if (!over && steps < ctx.budget.steps && performance.now() - started < ctx.budget.ms) continue;
      // Leaving the job: store the head if the run's durability held it in memory.
      const flushed = await unlessStopped(log, stepper, run, stepper.flush());
      const flushStopped = stoppedResult(ctx, log, run, flushed);
      if (flushStopped !== undefined) return flushStopped;
      const unstorable = flushed as StepOutcome | undefined;
      outcome = unstorable ?? outcome;
      const stepLog = log.child({ step: outcome.step, checkpointId: outcome.checkpointId });
      // None of the job's supersteps could be stored: the run fails where the job began.
      if (unstorable !== undefined) return fail(ctx, stepLog, run, outcome, 0, outcome.error);
      if (over) return fail(ctx, stepLog, run, outcome, steps, new GraphRecursionError(limit));
      return handOff(ctx, stepLog, run, outcome.checkpointId, steps);
    }
    const stepLog = log.child({ step: outcome.step, checkpointId: outcome.checkpointId });
    if (outcome.status === "interrupted") {
      const interrupts = interruptRows(ctx, served, run, outcome);
      const unstorable = nulProblem(
        interrupts.map(({ value, options }) => ({ value, options })),
        "An interrupt's value",
      );
      if (unstorable !== undefined) return fail(ctx, stepLog, run, outcome, steps, notStorable(unstorable));
      const args = { run, worker: ctx.workerId, checkpointId: outcome.checkpointId, steps, interrupts };
      return settle(ctx, stepLog, run, pauseSettled(ctx, stepLog, final, args), "parked");
    }
    if (outcome.status === "failed") return fail(ctx, stepLog, run, outcome, steps, outcome.error);
    return settle(ctx, stepLog, run, finalSettled(ctx, stepLog, run, final, outcome, steps), "finished");
  }
}

/** Why a step or flush stored nothing, when that ends the job: a lost race, or a refused input. */
type Stopped = "conflict" | { refused: unknown };

/**
 * A step or flush, or why it stored nothing: "conflict" when another worker committed from the
 * same head first; `refused` when the engine refused to store what the run began with (its
 * input, held, is no value a checkpoint can hold): nothing of the run is stored, and it fails
 * as if `prepare` had refused it. A refusal after the run stored something fails the job.
 */
async function unlessStopped<T>(
  log: Logger,
  stepper: Stepper,
  run: RunRow,
  work: Promise<T>,
): Promise<T | Stopped> {
  try {
    return await work;
  } catch (error) {
    if (refusesRun(error) && (await stepper.head())?.metadata.run_id !== run.id) return { refused: error };
    if (!isCheckpointConflict(error)) throw error;
    log.info({ err: error }, "another worker committed this superstep first; result discarded");
    return "conflict";
  }
}

/** The job's result when a step or flush stored nothing; undefined when it went on. */
function stoppedResult<T>(ctx: WorkerContext, log: Logger, run: RunRow, outcome: T | Stopped) {
  if (outcome === "conflict") return Promise.resolve<JobResult>("conflict");
  if (typeof outcome === "object" && outcome !== null && "refused" in outcome)
    return failBeforeStep(ctx, log, run, outcome.refused);
  return undefined;
}

function fail(
  ctx: WorkerContext,
  log: Logger,
  run: RunRow,
  outcome: StepOutcome,
  steps: number,
  error: unknown,
) {
  log.warn({ err: error }, "run failed");
  const args = {
    run,
    worker: ctx.workerId,
    checkpointId: outcome.checkpointId,
    steps,
    error: errorRecord(error),
  };
  return settle(ctx, log, run, finishRun(ctx.db, ctx.db.pool, args), "failed");
}

async function handOff(ctx: WorkerContext, log: Logger, run: RunRow, checkpointId: string, steps: number) {
  const args = { runId: run.id, worker: ctx.workerId, checkpointId, steps };
  if (!(await recordProgress(ctx.db, ctx.db.pool, args))) return "cancelled";
  await ctx.dispatcher.enqueue({ threadId: run.thread_id, runId: run.id, checkpointId });
  log.debug("next superstep enqueued");
  return "enqueued";
}

/** Applies a run's final transition, then enqueues the thread's next run and announces it. */
async function settle(
  ctx: WorkerContext,
  log: Logger,
  run: RunRow,
  transition: Promise<Settled>,
  result: JobResult,
): Promise<JobResult> {
  const settled = await transition;
  if (!settled.applied) return "cancelled";
  if (settled.next) await ctx.dispatcher.enqueue(settled.next);
  const status = result === "parked" ? "interrupted" : result === "finished" ? "success" : "error";
  await ctx.dispatcher
    .publish({ runId: run.id, threadId: run.thread_id, status })
    .catch((error: unknown) => log.warn({ err: error }, "run event not published; waiters recheck Postgres"));
  log.info({ result }, `run ${status}`);
  return result;
}
