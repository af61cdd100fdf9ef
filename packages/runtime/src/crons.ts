import { randomUUID } from "node:crypto";
import { InvalidInputError } from "@layover/graph";
import { Queue } from "bullmq";
import { type Redis, ReplyError } from "ioredis";
import type { Logger } from "pino";
import { z } from "zod";
import { isRedisConnectionError } from "./connections.ts";
import { nextCronMillis } from "./cron-next.ts";
import { type CronRow, type CronSpec, checkSpec, refusalOf, zoneOf } from "./cron-spec.ts";
import { type Db, inTransaction, type Queryable } from "./db.ts";
import { InvalidConfigError, threadOfAnotherGraph } from "./errors.ts";
import { getThread } from "./sql/threads.ts";
import { isUuid } from "./uuid.ts";
import { NoAnswerError, orLate, REDIS_WAIT_MS } from "./within.ts";

export type { CronRow, CronSpec } from "./cron-spec.ts";

/** The scheduler's queue: sweeps, reconciliation and cron ticks. */
export const SCHEDULER_QUEUE = "scheduler";

export const CronTick = z.object({ cronId: z.uuid() });

export function cronSchedulerId(id: string): string {
  return `cron.${id}`;
}

/**
 * What every queue or worker that computes a cron's next tick is given (upserting a schedule, or
 * taking a tick): ticks correct across DST changes (cron-next.ts).
 */
export const CRON_SETTINGS = { repeatStrategy: nextCronMillis };

/** A tick's job. Its run start is keyed by the tick, so a Postgres blip is retried safely. */
const TICK_OPTS = {
  removeOnComplete: true,
  removeOnFail: 1000,
  attempts: 5,
  backoff: { type: "exponential", delay: 500 },
};

/** Redis did not take a command (down, silent, read-only after a failover): not a refusal of the cron. */
function isRedisFailure(error: unknown): boolean {
  return error instanceof NoAnswerError || error instanceof ReplyError || isRedisConnectionError(error);
}

/** Sets `row`'s job scheduler in Redis, its next tick computed anew. */
async function scheduleCron(queue: Queue, row: CronRow): Promise<void> {
  await queue.upsertJobScheduler(
    cronSchedulerId(row.id),
    { pattern: row.schedule, tz: zoneOf(row) },
    { name: "cron", data: { cronId: row.id }, opts: TICK_OPTS },
  );
}

/**
 * Schedules `row` unless Redis already has it as it is: upserting an existing scheduler
 * replaces its next tick, so a tick that fell due while no scheduler ran would be skipped.
 */
async function ensureScheduled(queue: Queue, row: CronRow): Promise<void> {
  const existing = await queue.getJobScheduler(cronSchedulerId(row.id));
  const same =
    existing?.pattern === row.schedule &&
    existing.tz === zoneOf(row) &&
    existing.template?.opts?.attempts === TICK_OPTS.attempts;
  if (same) return;
  await scheduleCron(queue, row);
}

/** Refuses a cron on a thread a cron of another graph ticks on: every tick of one of them would be refused. */
async function refuseCronOfAnotherGraph(db: Db, q: Queryable, spec: CronSpec): Promise<void> {
  const { rows } = await q.query<{ id: string; graph_id: string }>(
    `SELECT id, graph_id FROM ${db.table("crons")} WHERE thread_id = $1 AND graph_id <> $2 LIMIT 1`,
    [spec.threadId, spec.graphId],
  );
  const other = rows[0];
  if (other !== undefined)
    throw new InvalidInputError(
      `Thread "${spec.threadId}" is the thread of cron ${other.id}, of graph "${other.graph_id}", not "${spec.graphId}": each tick of one of them would be refused. Use another thread id. Nothing was written.`,
    );
}

/** Takes, until the transaction ends, the lock crons' creates and deletes take on a thread's id. */
async function lockCronThread(db: Db, tx: Queryable, threadId: string): Promise<void> {
  await tx.query("SELECT pg_advisory_xact_lock(hashtextextended($1, 0))", [
    `layover cron thread ${db.schema} ${threadId}`,
  ]);
}

/**
 * Gives back a thread a cron made (claimThread) once no cron names it: deleted if no run ever
 * took it (no run, no checkpoint), so the id is free again, as before the cron. Its row is
 * locked first: a start on it (which locks it too) either comes first, and its run keeps the
 * thread, or finds it gone and makes it anew.
 */
async function releaseCronThread(db: Db, tx: Queryable, threadId: string): Promise<void> {
  await lockCronThread(db, tx, threadId);
  await tx.query(`SELECT 1 FROM ${db.table("threads")} WHERE id = $1 FOR UPDATE`, [threadId]);
  await tx.query(
    `DELETE FROM ${db.table("threads")} t
      WHERE t.id = $1 AND t.status = 'idle' AND t.head_checkpoint IS NULL
        AND NOT EXISTS (SELECT 1 FROM ${db.table("runs")} r WHERE r.thread_id = t.id)
        AND NOT EXISTS (SELECT 1 FROM ${db.table("crons")} c WHERE c.thread_id = t.id)`,
    [threadId],
  );
}

/** Deletes cron `id` and gives back the thread it made, if no run took it: what it deleted, if anything. */
async function removeCron(db: Db, id: string): Promise<{ id: string; threadId: string | null } | undefined> {
  return inTransaction(db, async (tx) => {
    const { rows } = await tx.query<{ id: string; thread_id: string | null }>(
      `DELETE FROM ${db.table("crons")} WHERE id = $1 RETURNING id, thread_id`,
      [id],
    );
    const row = rows[0];
    if (row === undefined) return undefined;
    if (row.thread_id !== null) await releaseCronThread(db, tx, row.thread_id);
    return { id: row.id, threadId: row.thread_id };
  });
}

/**
 * Makes the cron's thread, not made yet, idle and of the cron's graph: a start of another graph
 * on it is then refused, as on any thread of another graph (else it took the thread before the
 * first tick, and every tick was refused for good). A thread made meanwhile must be of its graph.
 */
async function claimThread(db: Db, tx: Queryable, spec: CronSpec & { threadId: string }): Promise<void> {
  const made = await tx.query(
    `INSERT INTO ${db.table("threads")} (id, graph_id) VALUES ($1, $2) ON CONFLICT (id) DO NOTHING`,
    [spec.threadId, spec.graphId],
  );
  if (made.rowCount === 1) return;
  const { rows } = await tx.query<{ graph_id: string }>(
    `SELECT graph_id FROM ${db.table("threads")} WHERE id = $1 FOR SHARE`,
    [spec.threadId],
  );
  const graphId = rows[0]?.graph_id;
  if (graphId !== undefined && graphId !== spec.graphId)
    throw threadOfAnotherGraph(spec.threadId, graphId, spec.graphId);
}

/**
 * The cron's row. On a thread not made yet, checked against the other crons that tick on it
 * under a lock on the thread's id, so two creates of different graphs cannot both pass; the
 * thread is made with it (claimThread).
 */
async function insertCron(db: Db, spec: CronSpec, newThread: boolean): Promise<CronRow> {
  return inTransaction(db, async (tx) => {
    if (spec.threadId !== undefined && newThread) {
      await lockCronThread(db, tx, spec.threadId);
      await refuseCronOfAnotherGraph(db, tx, spec);
      await claimThread(db, tx, { ...spec, threadId: spec.threadId });
    }
    const { rows } = await tx.query<CronRow>(
      `INSERT INTO ${db.table("crons")} (id, graph_id, schedule, timezone, input, thread_id, config)
       VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING *`,
      [
        randomUUID(),
        spec.graphId,
        spec.schedule,
        spec.timezone ?? null,
        JSON.stringify(spec.input === undefined ? {} : spec.input),
        spec.threadId ?? null,
        spec.config === undefined ? null : JSON.stringify(spec.config),
      ],
    );
    return rows[0] as CronRow;
  });
}

/** crons.create: the row in Postgres, then its schedule in Redis (else the scheduler sets it later). */
async function createCron(db: Db, queue: Queue, spec: CronSpec, logger?: Logger): Promise<CronRow> {
  checkSpec(spec);
  // Else every tick would be refused, with no one to hear it but the scheduler's log.
  const thread = spec.threadId === undefined ? undefined : await getThread(db, db.pool, spec.threadId);
  if (thread !== undefined && thread.graph_id !== spec.graphId) {
    await refuseCronOfAnotherGraph(db, db.pool, spec); // names the cron that made it, if one did
    throw threadOfAnotherGraph(thread.id, thread.graph_id, spec.graphId);
  }
  const row = await insertCron(db, spec, thread === undefined);
  try {
    await orLate(scheduleCron(queue, row), REDIS_WAIT_MS, "cron schedule");
  } catch (error) {
    if (isRedisFailure(error)) {
      // Recorded: a running scheduler finds it missing from Redis and sets it (RECONCILE_EVERY_MS).
      logger?.warn({ err: error, cronId: row.id }, "cron recorded; Redis did not take its schedule yet");
      return row;
    }
    await removeCron(db, row.id); // and the thread it made: nothing is left written
    throw new InvalidConfigError(
      `Cron schedule ${JSON.stringify(spec.schedule)} was refused: ${(error as Error).message}`,
    );
  }
  return row;
}

/**
 * crons.delete: the row from Postgres (once a tick holding it has recorded its run), then its
 * schedule from Redis (if Redis answers). Says what it deleted: the cron's id and thread.
 */
async function deleteCron(
  db: Db,
  queue: Queue,
  id: string,
  logger?: Logger,
): Promise<{ id: string; threadId: string | null } | undefined> {
  if (!isUuid(id)) return undefined;
  const deleted = await removeCron(db, id);
  // Scheduler keys spell the id as Postgres does: in lower case. Without Redis, the schedule
  // stays until its next tick, which finds no cron and removes it.
  await orLate(
    queue.removeJobScheduler(cronSchedulerId(id.toLowerCase())),
    REDIS_WAIT_MS,
    "cron unschedule",
  ).catch((error: unknown) => {
    if (!isRedisFailure(error)) throw error;
    logger?.warn({ err: error, cronId: id }, "cron deleted; Redis did not take its unscheduling yet");
  });
  return deleted;
}

/**
 * The runs a cron's ticks queued on its thread behind the run that holds it (pending, not the
 * thread's current run: that one may be running already, a worker marks it running late).
 */
async function queuedRuns(db: Db, cron: { id: string; threadId: string | null }): Promise<string[]> {
  if (cron.threadId === null) return [];
  const { rows } = await db.pool.query<{ id: string }>(
    `SELECT r.id FROM ${db.table("runs")} r
      WHERE r.thread_id = $1 AND (r.status = 'pending') IS TRUE AND r.idempotency_key LIKE $2
        AND r.id IS DISTINCT FROM (SELECT t.current_run_id FROM ${db.table("threads")} t WHERE t.id = $1)
      ORDER BY r.created_at`,
    [cron.threadId, `cron-${cron.id}-%`],
  );
  return rows.map((row) => row.id);
}

/** Records, in the transaction holding its cron, when a tick started its run. */
export type MarkStarted = (at: Date) => Promise<void>;

/**
 * crons.holding: `fn` in a transaction that holds cron `id`'s row FOR NO KEY UPDATE: against
 * crons.delete, and against the cron's other ticks, which wait to see what this one started.
 */
async function holdingCron<T>(
  db: Db,
  id: string,
  fn: (cron: CronRow | undefined, markStarted: MarkStarted) => Promise<T>,
): Promise<T> {
  if (!isUuid(id)) return fn(undefined, async () => {});
  return inTransaction(db, async (tx) => {
    const { rows } = await tx.query<CronRow>(
      `SELECT * FROM ${db.table("crons")} WHERE id = $1 FOR NO KEY UPDATE`,
      [id],
    );
    const markStarted: MarkStarted = async (at) => {
      await tx.query(`UPDATE ${db.table("crons")} SET last_started_at = $2 WHERE id = $1`, [id, at]);
    };
    return fn(rows[0], markStarted);
  });
}

/** crons.hasWaitingRun: whether `cron`'s thread has a pending run keyed by one of its ticks. */
async function cronHasWaitingRun(db: Db, cron: CronRow): Promise<boolean> {
  if (cron.thread_id === null) return false;
  const { rows } = await db.pool.query<{ waiting: boolean }>(
    `SELECT EXISTS (SELECT 1 FROM ${db.table("runs")}
      WHERE thread_id = $1 AND (status = 'pending') IS TRUE AND idempotency_key LIKE $2) AS waiting`,
    [cron.thread_id, `cron-${cron.id}-%`],
  );
  return rows[0]?.waiting === true;
}

/**
 * Creates, lists and deletes cron runs: rows in Postgres, job schedulers in BullMQ. Postgres holds
 * the truth: a schedule Redis did not take is set (or dropped) by the scheduler later.
 */
export function cronsApi(db: Db, connection: Redis, prefix: string, logger?: Logger) {
  const queue = new Queue(SCHEDULER_QUEUE, { connection, prefix, settings: CRON_SETTINGS });
  queue.on("error", () => {}); // reported by the connection's own listener, as in dispatch.ts
  return {
    create: (spec: CronSpec): Promise<CronRow> => createCron(db, queue, spec, logger),
    async list(): Promise<CronRow[]> {
      const { rows } = await db.pool.query<CronRow>(`SELECT * FROM ${db.table("crons")} ORDER BY created_at`);
      return rows;
    },
    delete: async (id: string): Promise<boolean> => (await deleteCron(db, queue, id, logger)) !== undefined,
    /**
     * Deletes cron `id`, then hands `cancel` each run its ticks queued behind its thread's run:
     * none begins after it returns. False when there is no such cron.
     */
    async deleteWithRuns(id: string, cancel: (runId: string) => Promise<unknown>): Promise<boolean> {
      const deleted = await deleteCron(db, queue, id, logger);
      if (deleted === undefined) return false;
      for (const runId of await queuedRuns(db, deleted)) await cancel(runId);
      return true;
    },
    async count(): Promise<number> {
      const { rows } = await db.pool.query<{ n: number }>(
        `SELECT count(*)::int AS n FROM ${db.table("crons")}`,
      );
      return rows[0]?.n ?? 0;
    },
    /**
     * Re-creates the job schedulers Redis lost (or holds changed) from Postgres; others keep their
     * next tick. A row BullMQ cannot schedule (stored by a release that checked less, or in a zone
     * this Node's time zone data lacks) goes to `onRefused` and is passed, not left to stop the rest.
     */
    async restore(onRefused: (row: CronRow, error: Error) => void = () => {}): Promise<number> {
      const rows = await this.list();
      for (const row of rows) {
        const refusal = refusalOf(row);
        if (refusal === undefined) await ensureScheduled(queue, row);
        else onRefused(row, refusal);
      }
      return rows.length;
    },
    /**
     * Calls `fn` with cron `id` (undefined if there is none) locked against crons.delete and its
     * other ticks until `fn` returns: a delete waits for a tick already starting its run, a tick
     * after the delete finds no cron, and a tick after another sees the run it started (and,
     * through `markStarted`, when). The lock holds a pooled connection for as long as `fn` runs.
     */
    holding: <T>(
      id: string,
      fn: (cron: CronRow | undefined, markStarted: MarkStarted) => Promise<T>,
    ): Promise<T> => holdingCron(db, id, fn),
    /**
     * Whether a run `cron` started on its thread has yet to begin (queued behind the thread's run,
     * or not yet taken by a worker): its tick then starts nothing. Else a thread waiting days for
     * a person gathers a run per tick, to run one after another once answered.
     */
    hasWaitingRun: (cron: CronRow): Promise<boolean> => cronHasWaitingRun(db, cron),
    async get(id: string): Promise<CronRow | undefined> {
      if (!isUuid(id)) return undefined;
      const { rows } = await db.pool.query<CronRow>(`SELECT * FROM ${db.table("crons")} WHERE id = $1`, [id]);
      return rows[0];
    },
    close: () => queue.close(),
  };
}
export type CronsApi = ReturnType<typeof cronsApi>;
