import { performance } from "node:perf_hooks";
import { getPostgres, uniqueSchemaName } from "@layover/testing";
import pg from "pg";

/**
 * Makes a backend send its pending statistics (its commit count included) to shared memory as
 * soon as this statement ends, instead of up to a second later. It reads a catalog table so the
 * backend has table statistics pending: with none, Postgres 15 skips the flush.
 */
export const FLUSH_STATS_SQL = "SELECT pg_stat_force_next_flush(), (SELECT count(*) FROM pg_namespace) AS n";

/** What a counting pool's clients sent, classified by what Postgres commits for them. */
export interface StatementCounts {
  /** Every statement sent: one round trip each (BEGIN and COMMIT included). */
  statements: number;
  /** Transactions committed: autocommit statements plus COMMITs. */
  commits: number;
  /** Of those commits, the read-only autocommit statements (SELECTs, Layover's named reads). */
  readCommits: number;
}

/** A pg pool whose clients count what they send; `flushStats` flushes every one of its backends. */
export interface CountingPool {
  pool: pg.Pool;
  counts: StatementCounts;
  /** Runs FLUSH_STATS_SQL on every client of the pool (all idle); returns how many it ran. */
  flushStats(): Promise<number>;
  end(): Promise<void>;
}

function isRead(text: string, name: string): boolean {
  if (name !== "") return name.includes("_read_");
  return /^\s*(select|with)\b/i.test(text) && !/\b(insert|update|delete)\b/i.test(text);
}

/**
 * Pool settings whose clients count what they send into `counts`: for libraries that build
 * their own pool from a `pg.PoolConfig` (LangGraph.js's PostgresStore).
 */
export function countingPoolConfig(
  url: string,
  applicationName: string,
  max = 10,
): { config: pg.PoolConfig; counts: StatementCounts } {
  const counts: StatementCounts = { statements: 0, commits: 0, readCommits: 0 };
  class CountingClient extends pg.Client {
    private inTransaction = false;

    override query(...args: unknown[]): any {
      const first = args[0] as string | { text?: string; name?: string } | undefined;
      const text = typeof first === "string" ? first : (first?.text ?? "");
      const name = typeof first === "string" ? "" : (first?.name ?? "");
      if (text !== FLUSH_STATS_SQL) this.tally(text, name);
      return (super.query as (...a: unknown[]) => unknown)(...args);
    }

    private tally(text: string, name: string): void {
      counts.statements += 1;
      const verb = text.trimStart().slice(0, 8).toUpperCase();
      if (verb.startsWith("BEGIN")) {
        this.inTransaction = true;
      } else if (verb.startsWith("COMMIT")) {
        this.inTransaction = false;
        counts.commits += 1;
      } else if (verb.startsWith("ROLLBACK")) {
        this.inTransaction = false;
      } else if (!this.inTransaction) {
        counts.commits += 1;
        if (isRead(text, name)) counts.readCommits += 1;
      }
    }
  }
  // No idle timeout: a connection opened during a timed batch would add its start-up commit.
  const config = {
    connectionString: url,
    max,
    idleTimeoutMillis: 0,
    application_name: applicationName,
    Client: CountingClient,
  };
  return { config, counts };
}

export function countingPool(url: string, applicationName: string, max = 10): CountingPool {
  const { config, counts } = countingPoolConfig(url, applicationName, max);
  const pool = new pg.Pool(config);
  pool.on("error", () => {});
  return {
    pool,
    counts,
    async flushStats() {
      const clients = await Promise.all(Array.from({ length: pool.totalCount }, () => pool.connect()));
      try {
        for (const client of clients) await client.query(FLUSH_STATS_SQL);
      } finally {
        for (const client of clients) client.release();
      }
      return clients.length;
    },
    end: () => pool.end(),
  };
}

/** The Postgres the benchmark runs against, and what it measures there. */
export interface BenchServer {
  /** URL of the database the savers use. */
  url: string;
  database: string;
  /** `SHOW server_version`. */
  version: string;
  /** The sessions' `synchronous_commit` (PGOPTIONS="-c synchronous_commit=off" changes it). */
  synchronousCommit: string;
  /**
   * True when the benchmark created `database` for itself: then its `xact_commit` counts only
   * the benchmark's own sessions (and autovacuum). False: a shared database, where other
   * sessions' commits add noise.
   */
  ownDatabase: boolean;
  /** Creates an empty schema; `close()` drops it. */
  createSchema(prefix: string): Promise<string>;
  /** `pg_total_relation_size` (heap, TOAST, indexes) of each table of `schema`. */
  tableBytes(schema: string): Promise<Record<string, number>>;
  /**
   * Median round trip of a one-row INSERT that commits on its own (a WAL flush) and of a
   * `SELECT 1`, in ms, over `count` of each: what a commit costs on this server right now.
   */
  probeLatency(count?: number): Promise<{ commitMs: number; statementMs: number }>;
  /** autovacuum + autoanalyze runs so far on the tables of `schemas`. */
  autovacuumRuns(schemas: readonly string[]): Promise<number>;
  /** `pg_stat_database.xact_commit` of `database`. */
  commits(): Promise<number>;
  /**
   * Commits that a `commits()` reading itself adds to the next window: 1 when it runs in the
   * measured database, 0 when it runs in another one.
   */
  readOverhead: number;
  /** Drops the schemas it created, then the database when it created one. */
  close(): Promise<void>;
}

async function connect(url: string): Promise<pg.Client> {
  const client = new pg.Client({ connectionString: url, application_name: "layover-bench-admin" });
  client.on("error", () => {});
  await client.connect();
  return client;
}

function withDatabase(url: string, database: string): string {
  const parsed = new URL(url);
  parsed.pathname = `/${database}`;
  return parsed.toString();
}

/**
 * Connects to the test Postgres (`getPostgres()`: DATABASE_URL, testcontainers, or the local
 * server) and creates a database for this run, so that `pg_stat_database.xact_commit` counts
 * only the benchmark. When the role may not create databases, it uses the given database.
 */
export async function openBenchServer(log: (line: string) => void): Promise<BenchServer> {
  const serverUrl = await getPostgres();
  const maintenance = await connect(serverUrl);
  const database = uniqueSchemaName("layover_bench");
  let ownDatabase = true;
  try {
    await maintenance.query(`CREATE DATABASE "${database}"`);
  } catch (error) {
    ownDatabase = false;
    log(
      `Could not create a database of its own (${error instanceof Error ? error.message : error}); ` +
        "using the server's database: other sessions' commits will count too.",
    );
  }
  const url = ownDatabase ? withDatabase(serverUrl, database) : serverUrl;
  const admin = ownDatabase ? await connect(url) : maintenance;
  const dbName = ownDatabase
    ? database
    : ((await admin.query<{ db: string }>("SELECT current_database() AS db")).rows[0]?.db ?? "");
  const version = (await admin.query<{ server_version: string }>("SHOW server_version")).rows[0]
    ?.server_version;
  const synchronousCommit = (await admin.query<{ synchronous_commit: string }>("SHOW synchronous_commit"))
    .rows[0]?.synchronous_commit;
  const schemas: string[] = [];
  let probeTable: string | undefined;
  // Every statement in the measured database ends with a forced stats flush, so that its own
  // commit lands before the window it precedes, never inside it.
  const statsQuery = `SELECT d.xact_commit::bigint AS n, pg_stat_force_next_flush()
    FROM pg_stat_database d, (SELECT count(*) FROM pg_namespace) AS touch WHERE d.datname = $1`;
  return {
    url,
    database: dbName,
    version: version ?? "unknown",
    synchronousCommit: synchronousCommit ?? "unknown",
    ownDatabase,
    readOverhead: ownDatabase ? 0 : 1,
    async createSchema(prefix) {
      const name = uniqueSchemaName(prefix);
      await admin.query(`CREATE SCHEMA "${name}"`);
      schemas.push(name);
      return name;
    },
    async tableBytes(schema) {
      const { rows } = await admin.query<{ name: string; bytes: string }>(
        `SELECT c.relname AS name, pg_total_relation_size(c.oid)::bigint AS bytes, pg_stat_force_next_flush()
         FROM pg_class c WHERE c.relnamespace = $1::text::regnamespace AND c.relkind = 'r'`,
        [schema],
      );
      return Object.fromEntries(rows.map((row) => [row.name, Number(row.bytes)]));
    },
    async probeLatency(count = 30) {
      if (probeTable === undefined) {
        const schema = uniqueSchemaName("bench_probe");
        await admin.query(`CREATE SCHEMA "${schema}"`);
        schemas.push(schema);
        probeTable = `"${schema}".probe`;
        await admin.query(`CREATE TABLE ${probeTable} (n int)`);
      }
      const time = async (sql: string) => {
        const samples: number[] = [];
        for (let i = 0; i < count; i++) {
          const start = performance.now();
          await admin.query(sql);
          samples.push(performance.now() - start);
        }
        return samples.sort((a, b) => a - b)[samples.length >> 1] ?? Number.NaN;
      };
      return {
        commitMs: await time(`INSERT INTO ${probeTable} VALUES (1)`),
        statementMs: await time("SELECT 1"),
      };
    },
    async autovacuumRuns(names) {
      const { rows } = await admin.query<{ n: string }>(
        `SELECT coalesce(sum(autovacuum_count + autoanalyze_count), 0)::bigint AS n, pg_stat_force_next_flush()
         FROM pg_stat_user_tables WHERE schemaname = ANY($1)`,
        [names],
      );
      return Number(rows[0]?.n ?? 0);
    },
    async commits() {
      const { rows } = await maintenance.query<{ n: string }>(statsQuery, [dbName]);
      return Number(rows[0]?.n ?? 0);
    },
    async close() {
      for (const name of schemas.splice(0)) {
        await admin.query(`DROP SCHEMA IF EXISTS "${name}" CASCADE`).catch(() => undefined);
      }
      if (ownDatabase) {
        await admin.end().catch(() => undefined);
        await maintenance.query(`DROP DATABASE IF EXISTS "${database}" WITH (FORCE)`);
      }
      await maintenance.end().catch(() => undefined);
    },
  };
}
