// Helpers of this package's integration tests: pools that count the statements they send,
// and views of what is stored.
import { randomUUID } from "node:crypto";
import pg from "pg";

/** Statements sent by clients of pools made with `countingPool`, by application name. */
const sent = new Map<string, string[]>();

/** A pool whose clients record every statement they send (the real server answers them). */
export function countingPool(url: string, max = 4): { pool: pg.Pool; appName: string; statements: string[] } {
  const appName = `layover-test-${randomUUID().slice(0, 8)}`;
  const statements: string[] = [];
  sent.set(appName, statements);
  class CountingClient extends pg.Client {
    override query(...args: unknown[]): any {
      const first = args[0] as string | { text?: string; name?: string };
      statements.push(typeof first === "string" ? first : (first.name ?? first.text ?? "?"));
      return (super.query as (...a: unknown[]) => unknown)(...args);
    }
  }
  const pool = new pg.Pool({ connectionString: url, max, application_name: appName, Client: CountingClient });
  pool.on("error", () => {});
  return { pool, appName, statements };
}

/** Sessions of `appName` currently idle in a transaction (there must never be any). */
export async function idleInTransaction(admin: pg.Pool, appName: string): Promise<number> {
  const { rows } = await admin.query<{ n: number }>(
    "SELECT count(*)::int AS n FROM pg_stat_activity WHERE application_name = $1 AND state LIKE 'idle in transaction%'",
    [appName],
  );
  return rows[0]?.n ?? 0;
}

/** Waits until at least `count` backends of `appName` are blocked on a lock; returns their pids. */
export async function lockedBackends(admin: pg.Pool, appName: string, count = 1): Promise<number[]> {
  for (;;) {
    const { rows } = await admin.query<{ pid: number }>(
      "SELECT pid FROM pg_stat_activity WHERE application_name = $1 AND wait_event_type = 'Lock'",
      [appName],
    );
    if (rows.length >= count) return rows.map((row) => row.pid);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/** Terminates every backend of `appName` from another connection (as a Postgres restart would). */
export async function terminateBackends(admin: pg.Pool, appName: string): Promise<number> {
  const { rows } = await admin.query<{ n: number }>(
    "SELECT count(pg_terminate_backend(pid))::int AS n FROM pg_stat_activity WHERE application_name = $1",
    [appName],
  );
  return rows[0]?.n ?? 0;
}

/**
 * What a thread's rows of `channel` hold: `bytes` of serialized data (uncompressed), `stored`
 * bytes as Postgres keeps them (after TOAST compression), row count, and how many are full values.
 */
export async function channelBytes(pool: pg.Pool, schema: string, threadId: string, channel: string) {
  const { rows } = await pool.query<{ bytes: number; stored: number; rows: number; full: number }>(
    `SELECT coalesce(sum(octet_length(data)), 0)::int AS bytes,
            coalesce(sum(pg_column_size(data)), 0)::int AS stored, count(*)::int AS rows,
            count(*) FILTER (WHERE base_version IS NULL)::int AS full
     FROM "${schema}".checkpoint_blobs b JOIN "${schema}".checkpoint_heads h USING (key_id)
     WHERE h.thread_id = $1 AND b.channel = $2`,
    [threadId, channel],
  );
  return rows[0] as { bytes: number; stored: number; rows: number; full: number };
}

/** Row counts of a thread in each table. */
export async function rowCounts(pool: pg.Pool, schema: string, threadId: string) {
  const count = async (table: string) => {
    const sql =
      table === "checkpoint_heads"
        ? `SELECT count(*)::int AS n FROM "${schema}".checkpoint_heads WHERE thread_id = $1`
        : `SELECT count(*)::int AS n FROM "${schema}".${table} t
           JOIN "${schema}".checkpoint_heads h USING (key_id) WHERE h.thread_id = $1`;
    return (await pool.query<{ n: number }>(sql, [threadId])).rows[0]?.n ?? 0;
  };
  return {
    heads: await count("checkpoint_heads"),
    checkpoints: await count("checkpoints"),
    blobs: await count("checkpoint_blobs"),
    writes: await count("checkpoint_writes"),
  };
}

/**
 * A pool whose clients lose the reply of the first statement named `name`: the real server
 * runs (and commits) it, then the caller gets ECONNRESET — a connection that died after the
 * commit, before the answer arrived.
 */
export function replyLosingPool(url: string, name: string): { pool: pg.Pool; lost: () => number } {
  let lost = 0;
  class ReplyLosingClient extends pg.Client {
    override query(...args: unknown[]): any {
      const config = args[0] as { name?: string };
      const callback = args.at(-1);
      if (lost > 0 || config?.name !== name || typeof callback !== "function") {
        return (super.query as (...a: unknown[]) => unknown)(...args);
      }
      lost += 1;
      const done = callback as (error: Error | null, result?: unknown) => void;
      const forwarded = [
        ...args.slice(0, -1),
        (error: Error | null) => {
          done(
            error ??
              Object.assign(new Error("read ECONNRESET (reply lost after commit)"), { code: "ECONNRESET" }),
          );
        },
      ];
      return (super.query as (...a: unknown[]) => unknown)(...forwarded);
    }
  }
  const pool = new pg.Pool({ connectionString: url, max: 2, Client: ReplyLosingClient });
  pool.on("error", () => {});
  return { pool, lost: () => lost };
}
