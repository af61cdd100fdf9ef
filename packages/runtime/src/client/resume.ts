import { randomUUID } from "node:crypto";
import { jsonbProblem } from "@layover/checkpoint";
import {
  AmbiguousResumeError,
  InvalidInputError,
  InvalidResumeError,
  isInterruptIdShaped,
  isLayoverError,
  NotInterruptedError,
  resumeIssues,
  UnknownInterruptError,
} from "@layover/graph";
import { InterruptAlreadyResolvedError, ThreadNotFoundError } from "../errors.ts";
import { checkKey, hasControlCharacter, isStorableId, MAX_KEY_BYTES, shown, textProblem } from "../keys.ts";
import { alreadyResolved, NOT_INTERRUPTED_HINT, recordResume } from "../resume-transition.ts";
import { firstCallOfKey, type ResumeCall } from "../same-call.ts";
import {
  answeredBy,
  type InterruptRow,
  interruptsById,
  lastAnswer,
  threadInterrupts,
} from "../sql/interrupts.ts";
import { type RunRow, runByIdempotencyKey } from "../sql/runs.ts";
import { getThread } from "../sql/threads.ts";
import { type ClientContext, dispatchRecorded, expecting } from "./context.ts";
import { knownKeys } from "./object-arg.ts";
import { checkConfig, type RunOptions, runOptionsConfig } from "./run-config.ts";
import { checkStateValues } from "./start-run.ts";

/** A resume's options; its run's (durability, context, streamMode, streamSubgraphs) as RunOptions says. */
export interface ResumeOptions extends RunOptions {
  /**
   * A retried resume with the same key (and the same answer, update and run options) returns the
   * first call's run instead of an error; the key given with another answer is refused
   * (IdempotencyKeyReusedError). Kept per thread, as a start's are: a key a start of the thread
   * used is refused.
   */
  idempotencyKey?: string;
  /** Recorded as `resolved_by` (who approved). @defaultValue the client's identity */
  resolvedBy?: string;
  /** State update applied with the resume (`Command({ resume, update })`). */
  update?: Record<string, unknown>;
}

const RESUME_OPTIONS = [
  "idempotencyKey",
  "resolvedBy",
  "update",
  "durability",
  "context",
  "streamMode",
  "streamSubgraphs",
] as const satisfies readonly (keyof ResumeOptions)[];

/**
 * `{ [interruptId]: value }` — an object whose keys all have an interrupt id's shape (version 5
 * UUIDs, see isInterruptIdShaped) — or undefined: an object keyed by other UUIDs is one answer.
 */
function asResumeMap(value: unknown): Record<string, unknown> | undefined {
  if (typeof value !== "object" || value === null || Array.isArray(value)) return undefined;
  const keys = Object.keys(value);
  return keys.length > 0 && keys.every(isInterruptIdShaped) ? (value as Record<string, unknown>) : undefined;
}

type Targets =
  | { values: Record<string, unknown>; checkpointId: string }
  /** Nothing pending to answer (unknown lists ids that are not pending). */
  | { refused: true; unknown: string[] };

/** Maps the caller's value(s) onto the thread's pending interrupts, checking ids and schemas. */
function resolveTargets(pending: readonly InterruptRow[], value: unknown): Targets {
  const map = asResumeMap(value);
  if (map === undefined && pending.length === 0) return { refused: true, unknown: [] };
  if (map === undefined && pending.length > 1)
    throw new AmbiguousResumeError(
      pending.map((p) => p.id),
      "threads.resume(threadId, { [interruptId]: value })",
    );
  const values = map ?? { [(pending[0] as InterruptRow).id]: value };
  const byId = new Map(pending.map((p) => [p.id, p]));
  const unknown = Object.keys(values).filter((id) => !byId.has(id));
  if (unknown.length > 0) return { refused: true, unknown };
  for (const [id, resumeValue] of Object.entries(values)) {
    if (resumeValue === undefined) {
      throw new InvalidInputError(
        `The answer to interrupt "${id}" is undefined, which JSON cannot carry: answer with a value (null for none). Nothing was changed.`,
      );
    }
    const row = byId.get(id) as InterruptRow;
    const issues = resumeIssues({ id, value: row.value, ...row.options }, resumeValue);
    if (issues.texts.length > 0) throw new InvalidResumeError(id, issues.texts, false, issues.redacted);
  }
  return { values, checkpointId: (byId.get(Object.keys(values)[0] as string) as InterruptRow).checkpoint_id };
}

/** Why there is nothing to answer: someone else answered first, no such thread, an id the thread never had, or not waiting. */
async function explainRefusal(
  ctx: ClientContext,
  threadId: string,
  unknown: readonly string[],
): Promise<never> {
  const q = ctx.db.pool;
  const thread = await getThread(ctx.db, q, threadId);
  if (thread === undefined) throw new ThreadNotFoundError(threadId);
  if (unknown.length > 0) {
    const [[known], pending] = await Promise.all([
      interruptsById(ctx.db, q, threadId, unknown),
      threadInterrupts(ctx.db, q, threadId, "pending"),
    ]);
    // A question withdrawn while the thread waits for others (a fork that asked anew): say so.
    if (known?.status === "cancelled" && pending.length > 0)
      throw new InterruptAlreadyResolvedError({
        threadId,
        interruptId: known.id,
        status: known.status,
        resolvedBy: known.resolved_by,
        resolvedAt: known.resolved_at,
      });
    if (known) throw alreadyResolved(threadId, known.id, known);
    throw new UnknownInterruptError(
      unknown,
      pending.map((p) => p.id),
    );
  }
  // Answered a moment ago: the run that took the answer may already have finished.
  const answered =
    thread.status === "busy" && thread.current_run_id !== null
      ? await answeredBy(ctx.db, q, threadId, thread.current_run_id)
      : await lastAnswer(ctx.db, q, threadId);
  if (answered) throw alreadyResolved(threadId, answered.id, answered);
  throw new NotInterruptedError(threadId, NOT_INTERRUPTED_HINT);
}

/**
 * Answers a parked thread's interrupt(s): `value` for its single pending interrupt, or
 * `{ [interruptId]: value }` for several. The values are checked against the pending interrupts
 * as read a moment before (their ids and schemas never change) — as this client's wait for the
 * thread's parked run read them, within the last 30 s, else read now — then recorded in one
 * atomic statement. When those read by the wait are pending no longer, nothing is recorded and
 * the resume reads them afresh, so it does what it would have done without the wait.
 *
 * Of two racing resumes of one interrupt exactly one wins; the other gets
 * InterruptAlreadyResolvedError and nothing changes — so does a later answer to the question a
 * person or the timeout sweep answered last, even once that run has finished (unless the wait
 * was cancelled or a new run started since). A thread that waits for nothing otherwise gets
 * NotInterruptedError.
 */
export async function resumeThread(
  ctx: ClientContext,
  threadId: string,
  value: unknown,
  options: ResumeOptions = {},
): Promise<{ runId: string }> {
  knownKeys(options, RESUME_OPTIONS, "threads.resume's options", "Nothing was changed.");
  if (!isStorableId(threadId)) throw new ThreadNotFoundError(String(threadId));
  const config = runOptionsConfig(options);
  checkConfig(config);
  checkKey(
    options.idempotencyKey,
    "idempotencyKey",
    "(a retry is then refused as answered)",
    "Nothing was changed.",
  );
  const by =
    options.resolvedBy === undefined
      ? undefined
      : // Bounded as a key is: every later refusal and layover-admin quote it.
        (textProblem(options.resolvedBy, MAX_KEY_BYTES) ?? controlProblem(options.resolvedBy as string));
  if (by !== undefined)
    throw new InvalidInputError(
      `resolvedBy must be ${by}, or left out for the client's identity; got ${shown(options.resolvedBy)}. Nothing was changed.`,
    );
  // Before a key's first call is compared with this one: as JSON, which these must be.
  const nul = jsonbProblem(value, "The answer") ?? jsonbProblem(options.update, "The update");
  if (nul !== undefined) throw new InvalidInputError(`${nul} Nothing was changed.`);
  const call: ResumeCall = { answer: value, update: options.update, config };
  if (options.idempotencyKey !== undefined) {
    // A retry returns the first call's run, whatever the thread waits for now. resume_thread
    // checks the key again under the thread's lock, so two first calls cannot both win.
    const earlier = await runByIdempotencyKey(ctx.db, ctx.db.pool, threadId, options.idempotencyKey);
    if (earlier) return firstCall(threadId, options.idempotencyKey, earlier, call);
  }
  const seen = ctx.seenPending?.take(threadId);
  if (seen !== undefined) {
    try {
      return await answer(ctx, threadId, { value, options, config }, seen);
    } catch (error) {
      // Changed since this client's wait read them: read them afresh, as if it had not.
      if (!isLayoverError(error) || !STALE.has(error.code)) throw error;
    }
  }
  const pending = await threadInterrupts(ctx.db, ctx.db.pool, threadId, "pending");
  try {
    return await answer(ctx, threadId, { value, options, config }, pending);
  } catch (error) {
    // A retry with the same key that ran beside the first call, and read the interrupts after
    // the first call answered them: it gets the first call's run, as a later retry does.
    const key = options.idempotencyKey;
    if (key === undefined || !isLayoverError(error) || !ANSWERED.has(error.code)) throw error;
    const first = await runByIdempotencyKey(ctx.db, ctx.db.pool, threadId, key);
    if (first === undefined) throw error;
    return firstCall(threadId, key, first, call);
  }
}

/** The run a retried resume's key found, if this call repeats the resume that recorded it. */
function firstCall(threadId: string, key: string, run: RunRow, call: ResumeCall): { runId: string } {
  return {
    runId: firstCallOfKey(threadId, key, run, { kind: "resume", ...call }, "Nothing was changed.").id,
  };
}

/**
 * Why a name shown to operators (who answered) holds what a terminal would act on: a newline or an
 * escape in it forged lines of layover-admin's output. Undefined when it holds none.
 */
function controlProblem(name: string): string | undefined {
  return hasControlCharacter(name) ? "a name without control characters (newlines, escapes)" : undefined;
}

/** Refusals a call with an idempotency key may owe to its own first call having answered. */
const ANSWERED: ReadonlySet<string> = new Set(["INTERRUPT_ALREADY_RESOLVED", "NOT_INTERRUPTED"]);

/**
 * What a resume answering interrupts read before says when they have changed since: nothing
 * was recorded, and a fresh read decides (it may answer a new question, or say who answered).
 */
const STALE: ReadonlySet<string> = new Set([
  "INTERRUPT_ALREADY_RESOLVED",
  "NOT_INTERRUPTED",
  "UNKNOWN_INTERRUPT",
  "AMBIGUOUS_RESUME",
  "INVALID_RESUME",
  "INVALID_INPUT",
  "THREAD_NOT_FOUND",
]);

/** Answers `pending` (the thread's pending interrupts, as read) with the resume's value(s). */
async function answer(
  ctx: ClientContext,
  threadId: string,
  resume: { value: unknown; options: ResumeOptions; config: ReturnType<typeof runOptionsConfig> },
  pending: readonly InterruptRow[],
): Promise<{ runId: string }> {
  const { value, options, config } = resume;
  const targets = resolveTargets(pending, value);
  if ("refused" in targets) return explainRefusal(ctx, threadId, targets.unknown);
  if (options.update !== undefined) {
    const graphId = (pending[0] as InterruptRow).graph_id;
    const what = `The update of a resume of thread "${threadId}"`;
    await checkStateValues(ctx, graphId, options.update, what, "update");
  }
  const newRunId = randomUUID();
  const { runId, job } = await expecting(ctx, newRunId, threadId, () =>
    recordResume(ctx.db, ctx.db.pool, {
      threadId,
      ...targets,
      status: "resolved",
      resolvedBy: options.resolvedBy ?? ctx.identity,
      idempotencyKey: options.idempotencyKey ?? null,
      update: options.update,
      config,
      runId: newRunId,
    }),
  );
  await dispatchRecorded(ctx, job);
  return { runId };
}
