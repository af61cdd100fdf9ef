import { randomUUID } from "node:crypto";
import { Queue } from "bullmq";
import type { Redis } from "ioredis";
import { z } from "zod";
import type { Db } from "./db.ts";
import { InvalidConfigError } from "./errors.ts";

/** The scheduler's queue: sweeps, reconciliation and cron ticks. */
export const SCHEDULER_QUEUE = "scheduler";

export const CronTick = z.object({ cronId: z.uuid() });

export interface CronSpec {
  graphId: string;
  /** A cron pattern; six fields for seconds ("* * * * * *" fires every second). */
  schedule: string;
  /** IANA time zone of the schedule. @defaultValue UTC */
  timezone?: string;
  input?: Record<string, unknown>;
  /** Run every tick on this thread; without it each tick starts a new thread. */
  threadId?: string;
}

export interface CronRow {
  id: string;
  graph_id: string;
  schedule: string;
  timezone: string | null;
  input: Record<string, unknown>;
  thread_id: string | null;
  created_at: Date;
}

export function cronSchedulerId(id: string): string {
  return `cron.${id}`;
}

/** Creates, lists and deletes cron runs: rows in Postgres, job schedulers in BullMQ. */
export function cronsApi(db: Db, connection: Redis, prefix: string) {
  const queue = new Queue(SCHEDULER_QUEUE, { connection, prefix });
  async function schedule(row: CronRow): Promise<void> {
    await queue.upsertJobScheduler(
      cronSchedulerId(row.id),
      { pattern: row.schedule, ...(row.timezone ? { tz: row.timezone } : {}) },
      { name: "cron", data: { cronId: row.id }, opts: { removeOnComplete: true, removeOnFail: 1000 } },
    );
  }
  return {
    async create(spec: CronSpec): Promise<CronRow> {
      if (spec.schedule.trim().split(/\s+/).length < 5)
        throw new InvalidConfigError(
          `Invalid cron schedule ${JSON.stringify(spec.schedule)}: use 5 or 6 fields.`,
        );
      const { rows } = await db.pool.query<CronRow>(
        `INSERT INTO ${db.table("crons")} (id, graph_id, schedule, timezone, input, thread_id)
         VALUES ($1, $2, $3, $4, $5, $6) RETURNING *`,
        [
          randomUUID(),
          spec.graphId,
          spec.schedule,
          spec.timezone ?? null,
          JSON.stringify(spec.input ?? {}),
          spec.threadId ?? null,
        ],
      );
      const row = rows[0] as CronRow;
      try {
        await schedule(row);
      } catch (error) {
        await db.pool.query(`DELETE FROM ${db.table("crons")} WHERE id = $1`, [row.id]);
        throw new InvalidConfigError(
          `Cron schedule ${JSON.stringify(spec.schedule)} was refused: ${(error as Error).message}`,
        );
      }
      return row;
    },
    async list(): Promise<CronRow[]> {
      const { rows } = await db.pool.query<CronRow>(`SELECT * FROM ${db.table("crons")} ORDER BY created_at`);
      return rows;
    },
    async delete(id: string): Promise<boolean> {
      const { rowCount } = await db.pool.query(`DELETE FROM ${db.table("crons")} WHERE id = $1`, [id]);
      await queue.removeJobScheduler(cronSchedulerId(id));
      return rowCount === 1;
    },
    /** Re-creates every cron's job scheduler from Postgres (after Redis lost them). */
    async restore(): Promise<number> {
      const rows = await this.list();
      for (const row of rows) await schedule(row);
      return rows.length;
    },
    async get(id: string): Promise<CronRow | undefined> {
      const { rows } = await db.pool.query<CronRow>(`SELECT * FROM ${db.table("crons")} WHERE id = $1`, [id]);
      return rows[0];
    },
    close: () => queue.close(),
  };
}
export type CronsApi = ReturnType<typeof cronsApi>;
