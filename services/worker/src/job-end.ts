// How a job ends: a run the engine refused, the failure of a run, the hand-on of a run that goes
// on to its next job, and the final transition (park, end) with its announcement.
import type { Checkpoint, PutCheckpointArgs } from "@layover/checkpoint";
import type { GuardedSaver } from "@layover/checkpoint-postgres";
import {
  GraphRecursionError,
  isCheckpointConflict,
  isLayoverError,
  type StepOutcome,
  type Stepper,
} from "@layover/graph";
import {
  encodeRunResult,
  finishRun,
  progressInPut,
  type RunEventResult,
  type RunRow,
  type RunStatus,
  recordedByPut,
  recordProgress,
  refuseResume,
  type Settled,
} from "@layover/runtime";
import type { Logger } from "pino";
import type { WorkerContext } from "./context.ts";
import { isJobLockLost } from "./job-loss.ts";

/** What a job did; logged, and returned as the BullMQ job's result. */
export type JobResult =
  | "stale"
  | "conflict"
  | "lock_lost"
  | "cancelled"
  | "enqueued"
  | "parked"
  | "finished"
  | "failed";

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
  "MISSING_NODE",
]);

export function refusesRun(error: unknown): boolean {
  return isLayoverError(error) && REFUSALS.has(error.code);
}

/** A refusal of the state values a run carries (a start's input, a resume's update) by the graph's schema. */
export function refusesValues(error: unknown): boolean {
  return isLayoverError(error, "INVALID_INPUT") || isLayoverError(error, "INVALID_UPDATE");
}

/** A value the runtime's tables cannot hold: the run fails (retrying would fail the same way). */
export function notStorable(message: string, redactedMessage?: string): Error {
  return Object.assign(new Error(message), {
    name: "NotSerializableError",
    code: "NOT_SERIALIZABLE",
    redactedMessage,
  });
}

/** What a thrown value that is not an Error says, for the run's stored error: its JSON, cut short. */
function thrownText(error: unknown): string {
  if (typeof error === "string") return error;
  try {
    const json = JSON.stringify(error);
    if (json !== undefined) return json.length > 2_000 ? `${json.slice(0, 2_000)}…` : json;
  } catch {
    // a cycle, a BigInt: fall back to its string form
  }
  return String(error);
}

/** A run's error as stored (jsonb): NUL characters, which Postgres cannot store, replaced. */
function errorRecord(error: unknown): NonNullable<RunRow["error"]> {
  const clean = (text: string) => text.replaceAll("\u0000", "\uFFFD");
  if (!(error instanceof Error)) return { name: "ThrownValue", message: clean(thrownText(error)) };
  const { code } = error as Error & { code?: unknown };
  return {
    name: clean(error.name),
    message: clean(error.message),
    ...(code ? { code: clean(String(code)) } : {}),
  };
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
export function failBeforeStep(
  ctx: WorkerContext,
  log: Logger,
  run: RunRow,
  error: unknown,
): Promise<JobResult> {
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

/** Why a step or flush stored nothing, when that ends the job: a lost race or lock, or a refused input. */
type Stopped = "conflict" | "lock_lost" | { refused: unknown };

/**
 * A step or flush, or why it stored nothing: "conflict" when another worker committed from the
 * same head first; "lock_lost" when the job is no longer this worker's (job-loss.ts); `refused`
 * when the engine refused to store what the run began with (its input, held, is no value a
 * checkpoint can hold): nothing of the run is stored, and it fails as if `prepare` had refused
 * it. A refusal after the run stored something fails the job.
 */
export async function unlessStopped<T>(
  log: Logger,
  stepper: Stepper,
  run: RunRow,
  work: Promise<T>,
): Promise<T | Stopped> {
  try {
    return await work;
  } catch (error) {
    if (refusesRun(error) && (await stepper.head())?.metadata.run_id !== run.id) return { refused: error };
    if (isJobLockLost(error)) return lockLost(log, error);
    if (!isCheckpointConflict(error)) throw error;
    log.info({ err: error }, "another worker committed this superstep first; result discarded");
    return "conflict";
  }
}

/** A job that lost its lock: it ends as a lost race does, its run the other worker's. */
export function lockLost(log: Logger, error: unknown): "lock_lost" {
  log.info({ err: error }, "job lost its lock; left to the worker that holds it");
  return "lock_lost";
}

/** The job's result when a step or flush stored nothing; undefined when it went on. */
export function stoppedResult<T>(ctx: WorkerContext, log: Logger, run: RunRow, outcome: T | Stopped) {
  if (outcome === "conflict") return Promise.resolve<JobResult>("conflict");
  if (outcome === "lock_lost") return Promise.resolve<JobResult>("lock_lost");
  if (typeof outcome === "object" && outcome !== null && "refused" in outcome)
    return failBeforeStep(ctx, log, run, outcome.refused);
  return undefined;
}

export function fail(
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

/**
 * Ends a job whose run goes on: stores the supersteps the job holds — with the run's progress, in
 * the same statement — then hands the thread to the next job; or fails the run (recursion
 * limit, supersteps that cannot be stored).
 */
export async function leaveJob(
  ctx: WorkerContext,
  log: Logger,
  run: RunRow,
  job: {
    stepper: Stepper;
    /** The job's saver, fenced by the run holding its thread. */
    saver: GuardedSaver;
    outcome: StepOutcome;
    steps: number;
    overLimit: number | undefined;
  },
): Promise<JobResult> {
  let recorded = false;
  const withProgress = async (chain: readonly PutCheckpointArgs[]) => {
    const checkpointId = (chain.at(-1) as PutCheckpointArgs).checkpoint.id;
    const progress = progressInPut(ctx.db, {
      runId: run.id,
      worker: ctx.workerId,
      checkpointId,
      steps: job.steps,
    });
    recorded = recordedByPut(await job.saver.putThen(chain, progress));
  };
  // A run over its limit fails instead: its steps are counted once, by the failure.
  const put = job.overLimit === undefined ? withProgress : undefined;
  const flushed = await unlessStopped(log, job.stepper, run, job.stepper.flush(put));
  const stopped = stoppedResult(ctx, log, run, flushed);
  if (stopped !== undefined) return stopped;
  const unstorable = flushed as StepOutcome | undefined;
  const outcome = unstorable ?? job.outcome;
  const stepLog = log.child({ step: outcome.step, checkpointId: outcome.checkpointId });
  // None of the job's supersteps could be stored: the run fails where the job began.
  if (unstorable !== undefined) return fail(ctx, stepLog, run, outcome, 0, outcome.error);
  if (job.overLimit !== undefined)
    return fail(ctx, stepLog, run, outcome, job.steps, new GraphRecursionError(job.overLimit));
  return handOff(ctx, stepLog, run, { checkpointId: outcome.checkpointId, steps: job.steps, recorded });
}

/** Enqueues the run's next step, its progress recorded (`recorded`: with its supersteps already). */
async function handOff(
  ctx: WorkerContext,
  log: Logger,
  run: RunRow,
  { checkpointId, steps, recorded }: { checkpointId: string; steps: number; recorded: boolean },
) {
  const args = { runId: run.id, worker: ctx.workerId, checkpointId, steps };
  if (!recorded && !(await recordProgress(ctx.db, ctx.db.pool, args))) return "cancelled";
  await ctx.dispatcher.enqueue({ threadId: run.thread_id, runId: run.id, checkpointId });
  log.debug("next superstep enqueued");
  return "enqueued";
}

/**
 * How long after its final commit was sent a job still announces what it stored with its run's
 * event. Later — the process stalled in between (a long GC pause, a VM its host froze) — a person
 * may have answered the park meanwhile: the event says the status alone, and its waiters read
 * Postgres.
 */
const FRESH_RESULT_MS = 1_000;

/**
 * Applies a run's final transition, then enqueues the thread's next run and announces it: with
 * what it stored when it finished or parked at `stored.checkpoint` (the head it ends or waits
 * at), when the statement that stored it was sent (`since`, performance.now()) within
 * FRESH_RESULT_MS.
 */
export async function settle(
  ctx: WorkerContext,
  log: Logger,
  run: RunRow,
  transition: Promise<Settled>,
  result: JobResult,
  stored?: { checkpoint: Checkpoint | undefined; since: number },
): Promise<JobResult> {
  const settled = await transition;
  if (!settled.applied) return "cancelled";
  if (settled.next) await ctx.dispatcher.enqueue(settled.next);
  const status = result === "parked" ? "interrupted" : result === "finished" ? "success" : "error";
  // A park whose pending interrupts are unknown (a retried commit) is announced without them.
  const pending = result === "finished" ? [] : settled.pending;
  const fresh = stored !== undefined && performance.now() - stored.since <= FRESH_RESULT_MS;
  const told =
    fresh && stored.checkpoint !== undefined && pending !== undefined
      ? encodeRunResult(stored.checkpoint, pending, ctx.eventResultBytes)
      : undefined;
  await announce(ctx, log, run, status, told);
  log.info({ result }, `run ${status}`);
  return result;
}

/**
 * Tells the run's waiters (Redis pub/sub) that it settled, with what it stored when given: a
 * wait that hears it answers from it; one that does not reads Postgres.
 */
export async function announce(
  ctx: WorkerContext,
  log: Logger,
  run: RunRow,
  status: RunStatus,
  result?: RunEventResult,
): Promise<void> {
  await ctx.dispatcher
    .publish({
      runId: run.id,
      threadId: run.thread_id,
      status,
      ...(status === "interrupted" ? { graphId: run.graph_id } : {}),
      ...(result ? { result } : {}),
    })
    .catch((error: unknown) => log.warn({ err: error }, "run event not published; waiters recheck Postgres"));
}
