import type { CheckpointSaver } from "@layover/checkpoint";
import type { Logger } from "pino";
import type { Db } from "../db.ts";
import type { Dispatcher } from "../dispatch.ts";
import type { StepJob } from "../jobs.ts";
import type { GraphRow } from "../sql/graphs.ts";

/** What the client's operations share. */
export interface ClientContext {
  db: Db;
  saver: CheckpointSaver;
  dispatcher: Dispatcher;
  logger: Logger;
  /** Who resolves interrupts through this client, when a call does not say (recorded as resolved_by). */
  identity: string;
  /** Registered graphs this client has read, with when (ms): input checks skip the query for a while. */
  graphs: Map<string, { row: GraphRow; readAt: number }>;
}

/**
 * Enqueues a job for a run already recorded in Postgres. If Redis is unreachable the run is
 * not lost: it stays pending in Postgres and `reconcile()` enqueues it again later.
 */
export async function dispatchRecorded(ctx: ClientContext, job: StepJob | null): Promise<void> {
  if (job === null) return;
  try {
    await ctx.dispatcher.enqueue(job);
  } catch (error) {
    ctx.logger.warn(
      { err: error, threadId: job.threadId, runId: job.runId },
      "enqueue failed; the run is recorded and reconcile() will enqueue it",
    );
  }
}
