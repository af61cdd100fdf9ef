import { randomUUID } from "node:crypto";
import { NotInterruptedError } from "@layover/graph";
import type { Db, Queryable } from "./db.ts";
import { InterruptAlreadyResolvedError, ThreadNotFoundError } from "./errors.ts";
import { firstCallOfKey } from "./same-call.ts";
import { type InterruptRow, interruptsById } from "./sql/interrupts.ts";
import { getRun, type RunConfig } from "./sql/runs.ts";

/** What NotInterruptedError tells a client's caller to do instead. */
export const NOT_INTERRUPTED_HINT =
  "Start it with an input (runs.start), or run it on from its last checkpoint with threads.continue(threadId): past a static breakpoint, or after a run that failed or was cancelled.";

/** Who answered interrupt `interruptId` first, and when (its row, if it is still there). */
export function alreadyResolved(
  threadId: string,
  interruptId: string,
  row: InterruptRow | undefined,
): InterruptAlreadyResolvedError | NotInterruptedError {
  // A cancelled wait was answered by nobody: the thread simply waits for nothing. Say who
  // cancelled it: continuing would run the node a colleague stopped (it asks anew).
  if (row?.status === "cancelled") {
    const when = row.resolved_at ? ` at ${row.resolved_at.toISOString()}` : "";
    // Superseded: a start or a fork (threads.continue with a checkpointId) left the branch it was asked on.
    const instead = row.resolved_by?.startsWith("superseded by run ")
      ? "The thread went on without it: it asks nothing now, or asks anew (interrupts.list)."
      : "To ask it again, threads.continue(threadId) runs its node again; or start the thread anew with an input (runs.start).";
    return new NotInterruptedError(
      threadId,
      `Its question "${row.id}" was cancelled${row.resolved_by ? ` (${row.resolved_by})` : ""}${when}; nothing was changed. ${instead}`,
    );
  }
  return new InterruptAlreadyResolvedError({
    threadId,
    interruptId,
    status: row?.status ?? "resolved",
    resolvedBy: row?.resolved_by ?? null,
    resolvedAt: row?.resolved_at ?? null,
  });
}

export interface RecordedResume {
  runId: string;
  /** The job to enqueue now; null when the run waits behind the thread's current run. */
  job: { threadId: string; runId: string; checkpointId: string } | null;
}

/**
 * Answers a thread's interrupts in one statement (resume_thread, migrations/0003): under the
 * thread's row lock each interrupt goes pending → `status` and a resume run is recorded. If any
 * was resolved by someone else first, nothing is written and InterruptAlreadyResolvedError
 * says who and when. A key already used on the thread returns that earlier run.
 */
export async function recordResume(
  db: Db,
  q: Queryable,
  args: {
    threadId: string;
    values: Record<string, unknown>;
    checkpointId: string;
    status: "resolved" | "expired";
    resolvedBy: string;
    idempotencyKey: string | null;
    update?: Record<string, unknown> | undefined;
    config?: RunConfig | undefined;
    /** The new run's id. @defaultValue a new UUID */
    runId?: string;
  },
): Promise<RecordedResume> {
  const input = {
    resume: args.values,
    ...(args.update ? { update: args.update } : {}),
    ...(args.config ? { config: args.config } : {}),
  };
  const { rows } = await q.query<{
    outcome: "started" | "queued" | "existing" | "no_thread" | "lost";
    run_id: string;
    lost_id: string;
  }>(
    db.prepared(
      "resume_thread",
      `SELECT * FROM ${db.table("resume_thread")}($1, $2, $3, $4, $5, $6, $7, $8)`,
      [
        args.threadId,
        args.runId ?? randomUUID(),
        JSON.stringify(args.values),
        args.checkpointId,
        args.status,
        args.resolvedBy,
        args.idempotencyKey,
        JSON.stringify(input),
      ],
    ),
  );
  const recorded = rows[0] as NonNullable<(typeof rows)[0]>;
  switch (recorded.outcome) {
    case "no_thread":
      throw new ThreadNotFoundError(args.threadId);
    case "lost": {
      const [row] = await interruptsById(db, q, args.threadId, [recorded.lost_id]);
      throw alreadyResolved(args.threadId, recorded.lost_id, row);
    }
    case "started":
      return {
        runId: recorded.run_id,
        job: { threadId: args.threadId, runId: recorded.run_id, checkpointId: args.checkpointId },
      };
    case "existing": {
      // The key's run, recorded since the caller looked it up: this resume's only if it repeats it.
      const run = await getRun(db, q, recorded.run_id);
      if (run !== undefined && args.idempotencyKey !== null) {
        const call = {
          kind: "resume" as const,
          answer: args.values,
          update: args.update,
          config: args.config,
        };
        firstCallOfKey(args.threadId, args.idempotencyKey, run, call, "Nothing was changed.");
      }
      return { runId: recorded.run_id, job: null };
    }
    case "queued":
      return { runId: recorded.run_id, job: null };
  }
}
