import type { CheckpointSaver } from "@layover/checkpoint";
import type { PostgresSaver } from "@layover/checkpoint-postgres";
import type { Logger } from "pino";
import type { Db } from "../db.ts";
import type { Dispatcher } from "../dispatch.ts";
import type { StepJob } from "../jobs.ts";
import type { GraphRow } from "../sql/graphs.ts";
import { orLate, REDIS_WAIT_MS } from "../within.ts";
import type { RunEventHub } from "./run-events.ts";
import type { SeenPending } from "./seen-pending.ts";

/** What the client's operations share. */
export interface ClientContext {
  db: Db;
  saver: CheckpointSaver;
  /**
   * `saver` when it is the client's own PostgresSaver, on the runtime's pool and schema: reads of
   * runs can then go in the statement that reads thread heads (getTupleAlong). A saver the
   * caller gave may be on another database or role.
   */
  alongSaver?: PostgresSaver;
  dispatcher: Dispatcher;
  logger: Logger;
  /** Who resolves interrupts through this client, when a call does not say (recorded as resolved_by). */
  identity: string;
  /** Registered graphs this client has read, with when (ms): input checks skip the query for a while. */
  graphs: Map<string, { row: GraphRow; readAt: number }>;
  /** The client's run events, told of each run it is about to record (RunEventHub.expect). */
  events?: Pick<RunEventHub, "expect" | "unexpect">;
  /** Pending interrupts this client's waits read, for the resumes that follow them. */
  seenPending?: SeenPending;
}

/**
 * Records run `runId` (a new id) with `record`, the client's run events told first so that a
 * wait need not read Postgres before the run's first event. A record that returns another run
 * (an idempotent retry, a queued start's existing run) or fails is forgotten.
 */
export async function expecting<T extends { runId: string }>(
  ctx: ClientContext,
  runId: string,
  threadId: string,
  record: () => Promise<T>,
): Promise<T> {
  ctx.events?.expect(runId, threadId);
  try {
    const recorded = await record();
    if (recorded.runId !== runId) ctx.events?.unexpect(runId);
    return recorded;
  } catch (error) {
    ctx.events?.unexpect(runId);
    throw error;
  }
}

/**
 * Enqueues a job for a run already recorded in Postgres. If Redis is unreachable (or does not
 * answer within REDIS_WAIT_MS) the run is not lost: it stays pending in Postgres and
 * `reconcile()` enqueues it again later (the same job id, so a late enqueue is not doubled).
 */
export async function dispatchRecorded(ctx: ClientContext, job: StepJob | null): Promise<void> {
  if (job === null) return;
  try {
    await orLate(ctx.dispatcher.enqueue(job), REDIS_WAIT_MS, "enqueue");
  } catch (error) {
    ctx.logger.warn(
      { err: error, threadId: job.threadId, runId: job.runId },
      "enqueue failed; the run is recorded and reconcile() will enqueue it",
    );
  }
}
