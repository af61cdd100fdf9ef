// Upgrading a live deployment: a replica of the new release migrates (0013–0016 rebuild indexes of
// interrupts) while a timeout sweep batch of the old one is under way. A batch reads interrupts
// (its claim), then writes them (its expire). An index build holds a SHARE lock on the table
// (writes wait for it); a DROP INDEX in the same transaction would then want ACCESS EXCLUSIVE
// and deadlock with the batch: Postgres kills one, and a killed migration is retried, the build
// and its stall of every write again (from a review). Each build and each drop now commits on
// its own, and both sides finish.
import { randomUUID } from "node:crypto";
import { rmSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { runMigrations } from "@layover/checkpoint-postgres";
import { claimDueThreadsQuery, createDb, expireClaimedQuery } from "@layover/runtime";
import { createTestSchema, type TestSchema } from "@layover/testing";
import pg from "pg";
import { afterAll, beforeAll, expect, it } from "vitest";
import { runtimeMigrationsUpTo } from "./support/migrations.ts";

const THREADS = 50_000;
let schema: TestSchema;
let pool: pg.Pool;
const folders: URL[] = [];

/** Migrates the schema up to `version`, retrying what the runner deems transient. */
function migrateTo(version: number, onRetry: (error: Error) => void) {
  const directory = runtimeMigrationsUpTo(version);
  folders.push(directory);
  return runMigrations(pool, {
    schema: schema.name,
    package: "runtime",
    directory,
    retry: { onRetry: ({ error }) => onRetry(error as Error) },
  });
}

beforeAll(async () => {
  schema = await createTestSchema("migration_locks");
  pool = new pg.Pool({ connectionString: schema.url, max: 4 });
  await migrateTo(12, () => {});
  const s = `"${schema.name}"`;
  // Threads that waited for a person, one in twenty of them due.
  await pool.query(
    `INSERT INTO ${s}.threads (id, graph_id, status)
     SELECT 't' || g, 'g', CASE WHEN g % 20 = 0 THEN 'interrupted' ELSE 'idle' END FROM generate_series(1, $1::int) g`,
    [THREADS],
  );
  await pool.query(
    `INSERT INTO ${s}.interrupts (thread_id, id, run_id, graph_id, task_id, node, checkpoint_id, status, deadline)
     SELECT 't' || g, 'i', gen_random_uuid(), 'g', 't', 'ask', 'c',
            CASE WHEN g % 20 = 0 THEN 'pending' ELSE 'resolved' END,
            CASE WHEN g % 20 = 0 THEN now() - interval '1 minute' END
       FROM generate_series(1, $1::int) g`,
    [THREADS],
  );
  await pool.query(`VACUUM ANALYZE ${s}.interrupts`);
}, 120_000);

afterAll(async () => {
  await pool?.end();
  await schema?.drop();
  for (const folder of folders) rmSync(fileURLToPath(folder), { recursive: true, force: true });
});

it("a sweep batch under way and the upgrade's index rebuilds both finish: no deadlock, no retry", async () => {
  const db = createDb(pool, schema.name);
  const errors: string[] = [];
  const sweep = await pool.connect();
  try {
    await sweep.query("BEGIN");
    const { rows: claimed } = await sweep.query<{ id: string; graph_id: string }>(
      claimDueThreadsQuery(db),
      [100],
    );
    expect(claimed).toHaveLength(100);
    const migrating = migrateTo(16, (error) => errors.push(`migration: ${error.message}`));
    // Once the first build holds its SHARE lock, the batch goes on to its expire.
    for (let waited = 0; ; waited += 5) {
      const { rows } = await pool.query(
        "SELECT 1 FROM pg_locks WHERE relation = $1::regclass AND mode = 'ShareLock' AND granted",
        [`"${schema.name}".interrupts`],
      );
      if (rows.length > 0) break;
      if (waited > 30_000) throw new Error("the migration never started its index build");
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    const runs = Object.fromEntries(claimed.map((t) => [t.id, { run: randomUUID(), graph: t.graph_id }]));
    const expired = await sweep
      .query(expireClaimedQuery(db), [claimed.map((t) => t.id), JSON.stringify(runs)])
      .catch((error: Error) => errors.push(`sweep: ${error.message}`));
    await sweep.query("COMMIT");
    await migrating;
    expect(errors).toEqual([]);
    expect(expired).toMatchObject({ rowCount: 100 });
  } finally {
    sweep.release();
  }
  const { rows } = await pool.query(
    `SELECT indexname FROM pg_indexes WHERE schemaname = $1 AND tablename = 'interrupts' ORDER BY 1`,
    [schema.name],
  );
  expect(rows.map((r) => r.indexname)).toEqual([
    "interrupts_graph_status",
    "interrupts_pending_deadline",
    "interrupts_pkey",
    "interrupts_status_created",
    "interrupts_thread_status",
  ]);
}, 120_000);
