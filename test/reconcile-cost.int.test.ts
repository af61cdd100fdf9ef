// What reconciliation's read (every 15 s, in each scheduler) costs Postgres once a deployment has
// cancelled many runs: the same pages as with none (migrations/0012). Only a cancelled run that
// still holds its thread needs a job; the read went through an index of every run ever
// cancelled, and joined each to its thread to find those few. The runs here are cancelled the
// two ways a deployment cancels them: under an earlier release (the upgrade marks them) and
// through this one's transitions (cancel_run, then the job's release_cancelled).
import { rmSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { runMigrations } from "@layover/checkpoint-postgres";
import { activeRuns, createDb, type Db, migrateRuntime } from "@layover/runtime";
import { createTestSchema, type TestSchema } from "@layover/testing";
import pg from "pg";
import { afterAll, beforeAll, expect, it } from "vitest";
import { runtimeMigrationsUpTo } from "./support/migrations.ts";
import { costSchema, type Op, pagesRead, pastThreads } from "./support/page-cost.ts";

/** The runs cancelled each way. */
const N = 10_000;
const RUNNING = "00000000-0000-4000-8000-000000000001";
const HOLDING = "00000000-0000-4000-8000-000000000002";

let schema: TestSchema;
let pool: pg.Pool;
let db: Db;
/**
 * A schema migrated to this release with as many threads and runs, all finished rather than
 * cancelled: what the read costs there.
 */
let bare: Awaited<ReturnType<typeof costSchema>>;
let baseline: number;

/** Reconciliation's first page: every run in it is old enough. */
const read: Op = (_client, cdb) => activeRuns(cdb, 0, 1_000);

/** The schema as the release before 0012 left it: the runtime's migrations up to 0011. */
async function migrateTo0011(): Promise<void> {
  const directory = runtimeMigrationsUpTo(11);
  try {
    await runMigrations(pool, { schema: schema.name, package: "runtime", directory });
  } finally {
    rmSync(fileURLToPath(directory), { recursive: true });
  }
}

/**
 * What reconciliation must keep finding: a run going on thread "mine", and a cancelled run that
 * still holds thread "held" (its job, which hands the thread on, is still to run).
 */
async function present(on: pg.Pool, ondb: Db): Promise<void> {
  await on.query(`INSERT INTO ${ondb.table("threads")} (id, graph_id, status, current_run_id)
                  VALUES ('mine', 'g', 'busy', '${RUNNING}'), ('held', 'g', 'busy', '${HOLDING}')`);
  await on.query(`INSERT INTO ${ondb.table("runs")} (id, thread_id, graph_id, kind, status, input, checkpoint_id)
                  VALUES ('${RUNNING}', 'mine', 'g', 'start', 'running', '{}', 'c'),
                         ('${HOLDING}', 'held', 'g', 'start', 'cancelled', '{}', 'c')`);
  // Statistics from before the history, as a deployment's are when cancels come in a burst; kept
  // so for both schemas alike (autovacuum might analyze one mid-test and not the other).
  await on.query(`ANALYZE ${ondb.table("threads")}, ${ondb.table("runs")}`);
  for (const table of ["threads", "runs"])
    await on.query(`ALTER TABLE ${ondb.table(table)} SET (autovacuum_enabled = false)`);
}

/** Pages of the read once autovacuum has been by: the cancels' dead row versions are gone. */
async function settledPages(on: pg.Pool, ondb: Db): Promise<number> {
  await untilNoOlderSnapshot(on);
  await on.query(`VACUUM ${ondb.table("runs")}, ${ondb.table("threads")}`);
  return pagesRead(on, ondb.schema, read);
}

/**
 * Waits until no session holds a snapshot taken before now: VACUUM keeps the row versions such a
 * snapshot may still see (another test file's transaction on the same server, say), and a read
 * then steps over every one of them.
 */
async function untilNoOlderSnapshot(on: pg.Pool): Promise<void> {
  const { rows } = await on.query<{ now: string }>("SELECT pg_current_xact_id()::text AS now");
  for (let waited = 0; ; waited += 50) {
    const older = await on.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM pg_stat_activity
        WHERE backend_xmin IS NOT NULL AND age(backend_xmin) > age(xid($1::xid8))`,
      [rows[0]?.now],
    );
    if (older.rows[0]?.n === 0) return;
    if (waited > 60_000)
      throw new Error("a session held a snapshot older than this test's rows for a minute");
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

beforeAll(async () => {
  bare = await costSchema("reconcile_cost_bare");
  await present(bare.pool, bare.db);
  await pastThreads(bare.pool, bare.db, 2 * N, { runs: true });
  baseline = await settledPages(bare.pool, bare.db);
  schema = await createTestSchema("reconcile_cost");
  pool = new pg.Pool({ connectionString: schema.url, max: 2 });
  db = createDb(pool, schema.name);
  await migrateTo0011();
  await present(pool, db);
  // Under 0011: threads whose run was cancelled and let them go.
  await pool.query(
    `INSERT INTO ${db.table("threads")} (id, graph_id) SELECT 'gone-' || g, 'g' FROM generate_series(1, $1::int) g`,
    [N],
  );
  await pool.query(
    `INSERT INTO ${db.table("runs")} (id, thread_id, graph_id, kind, status, input, updated_at)
     SELECT gen_random_uuid(), 'gone-' || g, 'g', 'start', 'cancelled', '{}', now() - interval '1 day'
       FROM generate_series(1, $1::int) g`,
    [N],
  );

  // The upgrade to this release.
  await migrateRuntime(pool, { schema: schema.name });
}, 60_000);

afterAll(async () => {
  await Promise.all([pool?.end(), bare?.pool.end()]);
  await Promise.all([schema?.drop(), bare?.schema.drop()]);
});

const found = async () => (await activeRuns(db, 0, 1_000)).map((run) => run.id).sort();

it("the upgrade marks the runs an earlier release cancelled: the read costs what it does without them", async () => {
  expect(await found()).toEqual([RUNNING, HOLDING]);
  // Reading the history is 10,000 index entries and the rows they point at: hundreds of pages.
  expect((await settledPages(pool, db)) - baseline).toBeLessThan(20);
}, 120_000);

it("runs cancelled through the transitions cost the read nothing once they let their threads go", async () => {
  const t = (name: string) => db.table(name);
  // Threads parked at an interrupt, and threads busy with a run and a start queued behind it.
  await pool.query(
    `INSERT INTO ${t("threads")} (id, graph_id, status)
     SELECT kind || g, 'g', CASE kind WHEN 'parked-' THEN 'interrupted' ELSE 'busy' END
       FROM generate_series(1, $1::int) g, unnest(ARRAY['parked-', 'busy-']) kind`,
    [N / 2],
  );
  await pool.query(
    `INSERT INTO ${t("runs")} (id, thread_id, graph_id, kind, status, input, checkpoint_id, created_at)
     SELECT gen_random_uuid(), thread, 'g', 'start', status, '{}', checkpoint, now() - ord * interval '1 second'
       FROM generate_series(1, $1::int) g,
            (VALUES ('parked-', 'interrupted', 'c', 2), ('busy-', 'running', 'c', 2), ('busy-', 'pending', NULL, 1))
              AS x(kind, status, checkpoint, ord),
            LATERAL (SELECT kind || g AS thread) y`,
    [N / 2],
  );
  await pool.query(
    `UPDATE ${t("threads")} th SET current_run_id = r.id FROM ${t("runs")} r
      WHERE th.id LIKE 'busy-%' AND r.thread_id = th.id AND r.status = 'running'`,
  );
  // Each run cancelled; the job of each running one then hands its thread on.
  const cancelled = await pool.query(
    `SELECT c.outcome FROM ${t("runs")} r, LATERAL ${t("cancel_run")}(r.id, 'an operator') c
      WHERE r.thread_id LIKE 'parked-%' OR r.thread_id LIKE 'busy-%'`,
  );
  expect(new Set(cancelled.rows.map((row) => row.outcome))).toEqual(new Set(["cancelled"]));
  // Until their jobs hand the threads on, the cancelled running runs need those jobs.
  expect((await activeRuns(db, 0, N)).length).toBe(N / 2 + 2);
  await pool.query(
    `SELECT ${t("release_cancelled")}(r.id, r.checkpoint_id) FROM ${t("runs")} r
      WHERE r.thread_id LIKE 'busy-%' AND r.checkpoint_id = 'c'`,
  );

  const threads = await pool.query(
    `SELECT status, count(*)::int AS n FROM ${t("threads")}
      WHERE id LIKE 'parked-%' OR id LIKE 'busy-%' GROUP BY status`,
  );
  expect(threads.rows).toEqual([{ status: "idle", n: N }]);
  expect(await found()).toEqual([RUNNING, HOLDING]);
  expect((await settledPages(pool, db)) - baseline).toBeLessThan(20);
}, 120_000);
