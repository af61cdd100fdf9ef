import { randomUUID } from "node:crypto";
import type { Db, Queryable } from "./db.ts";
import { InterruptAlreadyResolvedError } from "./errors.ts";
import { interruptsById, resolveInterrupts } from "./sql/interrupts.ts";
import { insertRun } from "./sql/runs.ts";
import { setThreadState, type ThreadRow } from "./sql/threads.ts";

export interface RecordedResume {
  runId: string;
  /** The job to enqueue now; null when the run waits behind the thread's current run. */
  job: { threadId: string; runId: string; checkpointId: string } | null;
}

/**
 * The one way an interrupt is answered, by a person or by the timeout sweep: inside the
 * caller's transaction (holding the thread row), each interrupt goes pending → `status` in
 * one conditional update, and a resume run is recorded. If any interrupt was resolved by
 * someone else first, throws InterruptAlreadyResolvedError and the caller rolls back.
 */
export async function recordResume(
  db: Db,
  q: Queryable,
  args: {
    thread: ThreadRow;
    values: Record<string, unknown>;
    checkpointId: string;
    status: "resolved" | "expired";
    resolvedBy: string;
    idempotencyKey: string | null;
    update?: Record<string, unknown> | undefined;
  },
): Promise<RecordedResume> {
  const runId = randomUUID();
  const ids = Object.keys(args.values);
  const moved = await resolveInterrupts(db, q, {
    threadId: args.thread.id,
    values: args.values,
    status: args.status,
    resolvedBy: args.resolvedBy,
    runId,
    idempotencyKey: args.idempotencyKey,
  });
  if (moved.length < ids.length) {
    const lost = ids.find((id) => !moved.includes(id)) as string;
    const [row] = await interruptsById(db, q, args.thread.id, [lost]);
    throw new InterruptAlreadyResolvedError({
      threadId: args.thread.id,
      interruptId: lost,
      status: row?.status ?? "resolved",
      resolvedBy: row?.resolved_by ?? null,
      resolvedAt: row?.resolved_at ?? null,
    });
  }
  await insertRun(db, q, {
    id: runId,
    thread_id: args.thread.id,
    graph_id: args.thread.graph_id,
    kind: "resume",
    input: { resume: args.values, ...(args.update ? { update: args.update } : {}) },
    idempotency_key: args.idempotencyKey,
    checkpoint_id: args.checkpointId,
  });
  // A thread parked with no run holding it starts the resume now; one busy with another run
  // (a partial resume still going) runs this one after it.
  if (args.thread.status === "busy") return { runId, job: null };
  await setThreadState(db, q, args.thread.id, { status: "busy", currentRunId: runId });
  return { runId, job: { threadId: args.thread.id, runId, checkpointId: args.checkpointId } };
}
