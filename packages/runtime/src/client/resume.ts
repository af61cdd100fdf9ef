import {
  AmbiguousResumeError,
  InvalidResumeError,
  NotInterruptedError,
  resumeIssues,
  UnknownInterruptError,
} from "@layover/graph";
import { inTransaction, type Queryable } from "../db.ts";
import { InterruptAlreadyResolvedError, ThreadNotFoundError } from "../errors.ts";
import { recordResume } from "../resume-transition.ts";
import { type InterruptRow, interruptsById, threadInterrupts } from "../sql/interrupts.ts";
import { runByIdempotencyKey } from "../sql/runs.ts";
import { lockThread, type ThreadRow } from "../sql/threads.ts";
import { type ClientContext, dispatchRecorded } from "./context.ts";

export interface ResumeOptions {
  /** A retried resume with the same key returns the first call's run instead of an error. */
  idempotencyKey?: string;
  /** Recorded as `resolved_by` (who approved). @defaultValue the client's identity */
  resolvedBy?: string;
  /** State update applied with the resume (`Command({ resume, update })`). */
  update?: Record<string, unknown>;
}

const INTERRUPT_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** `{ [interruptId]: value }` — an object whose keys are all interrupt ids — or undefined. */
function asResumeMap(value: unknown): Record<string, unknown> | undefined {
  if (typeof value !== "object" || value === null || Array.isArray(value)) return undefined;
  const keys = Object.keys(value);
  return keys.length > 0 && keys.every((k) => INTERRUPT_ID.test(k))
    ? (value as Record<string, unknown>)
    : undefined;
}

/** Why there is nothing to resume: someone else got there first, or the thread is not waiting. */
async function nothingPending(ctx: ClientContext, q: Queryable, thread: ThreadRow): Promise<never> {
  if (thread.status === "busy" && thread.current_run_id !== null) {
    const resolved = (await threadInterrupts(ctx.db, q, thread.id, "resolved"))
      .concat(await threadInterrupts(ctx.db, q, thread.id, "expired"))
      .find((row) => row.resume_run_id === thread.current_run_id);
    if (resolved) throw alreadyResolved(resolved);
  }
  throw new NotInterruptedError(thread.id);
}

function alreadyResolved(row: InterruptRow): InterruptAlreadyResolvedError {
  return new InterruptAlreadyResolvedError({
    threadId: row.thread_id,
    interruptId: row.id,
    status: row.status,
    resolvedBy: row.resolved_by,
    resolvedAt: row.resolved_at,
  });
}

/** Maps the caller's value(s) onto pending interrupts, checking ids and schemas; changes nothing. */
async function resolveTargets(
  ctx: ClientContext,
  q: Queryable,
  thread: ThreadRow,
  value: unknown,
): Promise<{ values: Record<string, unknown>; checkpointId: string }> {
  const pending = await threadInterrupts(ctx.db, q, thread.id, "pending");
  const map = asResumeMap(value);
  if (map === undefined && pending.length === 0) return nothingPending(ctx, q, thread);
  if (map === undefined && pending.length > 1) throw new AmbiguousResumeError(pending.map((p) => p.id));
  const values = map ?? { [(pending[0] as InterruptRow).id]: value };
  const byId = new Map(pending.map((p) => [p.id, p]));
  const unknown = Object.keys(values).filter((id) => !byId.has(id));
  if (unknown.length > 0) {
    const known = await interruptsById(ctx.db, q, thread.id, unknown);
    if (known[0]) throw alreadyResolved(known[0]);
    throw new UnknownInterruptError(unknown, [...byId.keys()]);
  }
  for (const [id, resumeValue] of Object.entries(values)) {
    const row = byId.get(id) as InterruptRow;
    const issues = resumeIssues({ id, value: row.value, ...row.options }, resumeValue);
    if (issues.length > 0) throw new InvalidResumeError(id, issues);
  }
  return { values, checkpointId: (byId.get(Object.keys(values)[0] as string) as InterruptRow).checkpoint_id };
}

/**
 * Answers a parked thread's interrupt(s): `value` for its single pending interrupt, or
 * `{ [interruptId]: value }` for several. Atomic: of two racing resumes of one interrupt,
 * exactly one wins; the other gets InterruptAlreadyResolvedError and nothing changes.
 */
export async function resumeThread(
  ctx: ClientContext,
  threadId: string,
  value: unknown,
  options: ResumeOptions = {},
): Promise<{ runId: string }> {
  const { runId, job } = await inTransaction(ctx.db, async (client) => {
    const thread = await lockThread(ctx.db, client, threadId);
    if (thread === undefined) throw new ThreadNotFoundError(threadId);
    if (options.idempotencyKey !== undefined) {
      const earlier = await runByIdempotencyKey(ctx.db, client, threadId, options.idempotencyKey);
      if (earlier) return { runId: earlier.id, job: null };
    }
    const target = await resolveTargets(ctx, client, thread, value);
    return recordResume(ctx.db, client, {
      thread,
      ...target,
      status: "resolved",
      resolvedBy: options.resolvedBy ?? ctx.identity,
      idempotencyKey: options.idempotencyKey ?? null,
      update: options.update,
    });
  });
  await dispatchRecorded(ctx, job);
  return { runId };
}
