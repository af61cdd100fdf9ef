// How a run moves once a worker holds it: pending → (running →) interrupted | success | error.
// Each transition is one statement (the run-ending ones call plpgsql functions: settle_run of
// migrations/0004, refuse_resume and release_cancelled of 0005, release_thread) and is
// conditional on the run: a run cancelled meanwhile stays cancelled.
import type { CheckpointTuple } from "@layover/checkpoint";
import type { PostgresSaver, PutThen } from "@layover/checkpoint-postgres";
import { batchedRead, type Db, type Queryable } from "./db.ts";
import type { StepJob } from "./jobs.ts";
import { type InterruptRow, interruptFromJson, type NewInterrupt } from "./sql/interrupts.ts";
import {
  alongPerDb,
  byIds,
  keyedById,
  type RunRow,
  runColumns,
  runFromJson,
  splitKeyed,
} from "./sql/runs.ts";

/**
 * A job's run, whether it holds its thread, and — for a resume or continue (the timeout sweep's,
 * an operator's, `threads.continue`) — the config of the thread's latest start that ran (not one
 * still queued behind it), whose context (when it gives none of its own) and recursionLimit it
 * inherits.
 */
export type JobRun = RunRow & {
  holds_thread: boolean;
  inherited_config: { context?: unknown; recursionLimit?: number } | null;
};

/**
 * A job's run, and whether it holds its thread (the only run a worker may advance): a read, no
 * commit. A job that ends its run quickly records running and the result in one commit
 * (settle_run takes a pending run too); a slower one marks it running meanwhile (markRunning).
 * Served by the primary keys of runs and threads; the reads of jobs that start at the same
 * time share one statement.
 */
export function readJobRun(db: Db, runId: string): Promise<JobRun | undefined> {
  return batchedRead(db, "job_runs", (ids) => readJobRuns(db, ids))(runId.toLowerCase());
}

/** The select of readJobRuns, its ids in `param`. */
function jobRunsSql(db: Db, param: string): string {
  return `SELECT ${runColumns("r")}, t.current_run_id IS NOT DISTINCT FROM r.id AS holds_thread,
              CASE WHEN r.kind <> 'start' THEN (
                SELECT s.input->'config' FROM ${db.table("runs")} s
                 WHERE s.thread_id = r.thread_id AND (s.kind = 'start') IS TRUE AND s.created_at <= r.created_at
                   AND s.started_at IS NOT NULL
                 ORDER BY s.created_at DESC, s.id DESC LIMIT 1) END AS inherited_config
         FROM ${byIds(db, "runs", param)} r JOIN ${db.table("threads")} t ON t.id = r.thread_id`;
}

async function readJobRuns(db: Db, ids: readonly string[]): Promise<Map<string, JobRun>> {
  const { rows } = await db.pool.query<JobRun>(
    db.prepared("job_runs", jobRunsSql(db, "$1"), [JSON.stringify(ids)]),
  );
  return new Map(rows.map((row) => [row.id, row]));
}

const jobRunsAlong = alongPerDb<JobRun>((db) => ({
  name: "runtime_job_runs",
  sql: keyedById(jobRunsSql(db, "$2")),
  split: (selected) => splitKeyed(selected, (row) => runFromJson<JobRun>(row)),
}));

/**
 * A job's run (as readJobRun) and its thread's head, in one statement (the reads of jobs that
 * start at the same time share it): `saver` is the worker's, on the runtime's pool. When that
 * read fails (a head that cannot be decoded, a statement one large head made time out), the run
 * is read on its own and the head's error is left to whoever uses it: a job that ends before
 * stepping (stale, cancelled) still ends.
 */
export async function readJobRunWithHead(
  db: Db,
  saver: PostgresSaver,
  job: StepJob,
): Promise<{ run: JobRun | undefined; head: Promise<CheckpointTuple | undefined> }> {
  const along = jobRunsAlong(db);
  try {
    const read = await saver.getTupleAlong(
      { threadId: job.threadId, ns: "" },
      along,
      job.runId.toLowerCase(),
    );
    return { run: read.value, head: Promise.resolve(read.tuple) };
  } catch (error) {
    const head = Promise.reject(error);
    head.catch(() => undefined); // seen by the stepper if it uses it
    return { run: await readJobRun(db, job.runId), head };
  }
}

/**
 * Shows a pending run as running on `worker`, for a job still busy after a moment. A run that
 * has moved on meanwhile (settled, cancelled) is left alone. False when nothing changed.
 */
export async function markRunning(db: Db, q: Queryable, runId: string, worker: string): Promise<boolean> {
  const { rowCount } = await q.query(
    db.prepared(
      "mark_running",
      `UPDATE ${db.table("runs")}
          SET status = 'running', started_by = COALESCE(started_by, $2), started_at = COALESCE(started_at, now()),
              last_worker = $2, updated_at = now()
        WHERE id = $1 AND status = 'pending'`,
      [runId, worker],
    ),
  );
  return rowCount === 1;
}

/**
 * Records the checkpoint the run's next job advances from (and that its input is recorded),
 * once: recording the checkpoint the run is at already changes nothing (a retry, or the put
 * that stored it recorded it with progressInPut and its answer was lost) and is true even if
 * the run was cancelled since, so the thread is handed on from that checkpoint. False when the
 * run was cancelled before it got there.
 */
export async function recordProgress(
  db: Db,
  q: Queryable,
  args: { runId: string; worker: string; checkpointId: string; steps: number },
): Promise<boolean> {
  const { rows } = await q.query<{ recorded: boolean }>(
    db.prepared(
      "record_progress",
      `WITH moved AS (
         UPDATE ${db.table("runs")}
            SET status = 'running', checkpoint_id = $3, prepared = true, last_worker = $2, steps = steps + $4,
                started_by = COALESCE(started_by, $2), started_at = COALESCE(started_at, now()), updated_at = now()
          WHERE id = $1 AND status IN ('pending', 'running') AND checkpoint_id IS DISTINCT FROM $3
          RETURNING 1
       )
       SELECT EXISTS (SELECT 1 FROM moved)
           OR EXISTS (SELECT 1 FROM ${db.table("runs")} WHERE id = $1 AND checkpoint_id = $3) AS recorded`,
      [args.runId, args.worker, args.checkpointId, args.steps],
    ),
  );
  return rows[0]?.recorded === true;
}

/**
 * `recordProgress` in the statement that stores the supersteps a job hands on (the `then` of
 * the saver's `putThen`). Parse what it returns with `recordedByPut`.
 */
export function progressInPut(
  db: Db,
  args: { runId: string; worker: string; checkpointId: string; steps: number },
): PutThen {
  return {
    name: "record_progress",
    sql: `UPDATE ${db.table("runs")}
             SET status = 'running', checkpoint_id = $20::text, prepared = true, last_worker = $19::text,
                 steps = steps + $21::integer, started_by = COALESCE(started_by, $19::text),
                 started_at = COALESCE(started_at, now()), updated_at = now()
           WHERE id = $18::uuid AND status IN ('pending', 'running') AND EXISTS (SELECT 1 FROM won)
       RETURNING true AS recorded`,
    values: [args.runId, args.worker, args.checkpointId, args.steps],
  };
}

/**
 * Whether `progressInPut` recorded the progress: false when it did not (a cancelled run), or
 * when a retried put could not tell (record it again: recordProgress records a checkpoint once).
 */
export function recordedByPut(row: unknown): boolean {
  return (row as { recorded?: boolean } | undefined)?.recorded === true;
}

/** What a transition returns of the thread's next run: the job to enqueue for it, if any. */
export interface NextRun {
  next_run_id: string | null;
  next_checkpoint_id: string | null;
}

/** The job of the run a transition handed `threadId` to, or null when none was waiting. */
export function nextStep(threadId: string, row: NextRun | undefined): StepJob | null {
  if (!row?.next_run_id) return null;
  return { threadId, runId: row.next_run_id, checkpointId: row.next_checkpoint_id };
}

/**
 * Hands the thread to its next queued run, or leaves it `status`; the caller holds the thread's
 * row lock. Returns the job to enqueue for the run that now holds the thread.
 */
export async function releaseThread(
  db: Db,
  q: Queryable,
  args: { threadId: string; status: "idle" | "interrupted" | "error"; headCheckpoint: string | null },
): Promise<StepJob | null> {
  const { rows } = await q.query<NextRun>(`SELECT * FROM ${db.table("release_thread")}($1, $2, $3)`, [
    args.threadId,
    args.status,
    args.headCheckpoint,
  ]);
  return nextStep(args.threadId, rows[0]);
}

/**
 * Hands on the thread a cancelled run still holds. `runs.cancel` leaves a running run's thread
 * to it: the worker calls this once the run's job has stopped (its last superstep's writes have
 * landed), so the next queued run starts from the true head, never beside it. Only the job of
 * the run's current step (`checkpointId`) may: a stale duplicate ends while that one may still
 * step. Returns the next run's job. A run that is not cancelled, or no longer holds its thread,
 * changes nothing (release_cancelled, migrations/0005_cancel_and_supersede.sql).
 */
export async function releaseCancelled(db: Db, job: StepJob): Promise<StepJob | null> {
  const { rows } = await db.pool.query<NextRun & { thread_id: string | null }>(
    db.prepared("release_cancelled", `SELECT * FROM ${db.table("release_cancelled")}($1, $2)`, [
      job.runId,
      job.checkpointId,
    ]),
  );
  const row = rows[0];
  return row?.thread_id ? nextStep(row.thread_id, row) : null;
}

export interface Settled {
  /** False when the run had been cancelled: nothing was changed. */
  applied: boolean;
  /** The thread's next run to enqueue, if one was waiting. */
  next: StepJob | null;
  /** A park's: the thread's pending interrupts once it parked, in the order asked (park_run, migrations/0017). */
  pending?: InterruptRow[];
}

export interface SettleArgs {
  run: RunRow;
  worker: string;
  checkpointId: string | null;
  steps: number;
}

/** Ends a run with success or error (settle_run): the thread is handed on or left idle or failed. */
async function endRun(
  db: Db,
  q: Queryable,
  args: SettleArgs & { status: "success" | "error"; error?: RunRow["error"] | undefined },
): Promise<Settled> {
  const { rows } = await q.query<SettleRow>(
    db.prepared(
      "settle_run",
      `SELECT * FROM ${db.table("settle_run")}($1, $2, $3, $4, $5, $6, '[]'::jsonb)`,
      [
        args.run.id,
        args.worker,
        args.status,
        args.checkpointId,
        args.steps,
        args.error ? JSON.stringify(args.error) : null,
      ],
    ),
  );
  return settledFrom(rows[0]);
}

type SettleRow = NextRun & {
  applied: boolean;
  thread_id: string;
  pending?: Record<string, unknown>[] | null;
};

function settledFrom(row: SettleRow | undefined): Settled {
  if (!row?.applied) return { applied: false, next: null };
  const settled: Settled = { applied: true, next: nextStep(row.thread_id, row) };
  if (row.pending) settled.pending = row.pending.map(interruptFromJson);
  return settled;
}

/**
 * Ends a run with success in the statement that stores its last checkpoint: the `then` of the
 * saver's `putThen`, so the superstep and the run's end commit together (settle_run reads no
 * checkpoint table). Parse what it returns with `settledByPut`.
 */
export function finishInPut(db: Db, args: SettleArgs): PutThen {
  return {
    name: "finish_run",
    sql: `SELECT * FROM ${db.table("settle_run")}(
            $18::uuid, $19::text, 'success', $20::text, $21::integer, NULL::jsonb, '[]'::jsonb)`,
    values: [args.run.id, args.worker, args.checkpointId, args.steps],
  };
}

/**
 * Parks a run in the statement that stores the supersteps it paused after, with their pending
 * writes: the `then` of the saver's `putThen`, as `finishInPut`. Parse it with `settledByPut`.
 */
export function parkInPut(
  db: Db,
  args: SettleArgs & { checkpointId: string; interrupts: NewInterrupt[] },
): PutThen {
  return {
    name: "park_run",
    sql: `SELECT * FROM ${db.table("park_run")}($18::uuid, $19::text, $20::text, $21::integer, $22::jsonb)`,
    values: [args.run.id, args.worker, args.checkpointId, args.steps, JSON.stringify(args.interrupts)],
  };
}

/** What `finishInPut` or `parkInPut` did; undefined when a retried put could not tell (settle it again). */
export function settledByPut(row: unknown): Settled | undefined {
  return row === undefined ? undefined : settledFrom(row as SettleRow);
}

/** Parks a run: its interrupts recorded with their deadlines, the thread waiting for a person. */
export async function parkRun(
  db: Db,
  q: Queryable,
  args: SettleArgs & { checkpointId: string; interrupts: NewInterrupt[] },
): Promise<Settled> {
  const { rows } = await q.query<SettleRow>(
    db.prepared("park_run", `SELECT * FROM ${db.table("park_run")}($1, $2, $3, $4, $5)`, [
      args.run.id,
      args.worker,
      args.checkpointId,
      args.steps,
      JSON.stringify(args.interrupts),
    ]),
  );
  return settledFrom(rows[0]);
}

/**
 * Fails a resume run whose answers or update the engine refused before recording them: the
 * interrupts a person resolved with it are pending again, and the thread waits for them; a
 * refused continue leaves its thread at its breakpoint (refuse_resume, migrations/0005 and 0023).
 */
export async function refuseResume(
  db: Db,
  q: Queryable,
  args: { run: RunRow; worker: string; error: NonNullable<RunRow["error"]> },
): Promise<Settled> {
  const { rows } = await q.query<SettleRow>(`SELECT * FROM ${db.table("refuse_resume")}($1, $2, $3)`, [
    args.run.id,
    args.worker,
    JSON.stringify(args.error),
  ]);
  return settledFrom(rows[0]);
}

/** Ends a run: success, or error with what failed. */
export function finishRun(
  db: Db,
  q: Queryable,
  args: SettleArgs & { error?: RunRow["error"] },
): Promise<Settled> {
  return endRun(db, q, { ...args, status: args.error ? "error" : "success" });
}
