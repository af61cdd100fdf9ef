import { createHash } from "node:crypto";
import { readdirSync, readFileSync } from "node:fs";
import type { Pool, PoolClient } from "pg";
import { classifyFailure, PostgresSaverError } from "./errors.ts";
import { type RetryOptions, withRetry } from "./retry.ts";
import { DEFAULT_SCHEMA, quoteSchema } from "./schema-name.ts";
import { inTransaction } from "./transaction.ts";

/** This package's name in the migration ledger (one ledger serves every Layover package). */
const PACKAGE = "checkpoint-postgres";
const OWN_MIGRATIONS = new URL("./migrations/", import.meta.url);
const FILE_NAME = /^(\d{4})_[a-z0-9_]+\.sql$/;

export interface Migration {
  version: number;
  /** The file name without `.sql`, e.g. `0001_checkpoint_tables`. */
  name: string;
  sql: string;
  /** sha256 of the file: a shipped migration must never change. */
  checksum: string;
}

export interface MigrateOptions {
  /**
   * The schema that holds the tables; created when missing.
   * @defaultValue "layover"
   */
  schema?: string;
  /** Retries of transient failures (connection loss while migrating). */
  retry?: RetryOptions;
}

export interface MigrateResult {
  /** Migrations this call applied, in order (empty when the schema was up to date). */
  applied: string[];
  /** The newest migration version now applied. */
  version: number;
}

/** The package's migrations, in order; numbering must run 0001, 0002… without gaps. */
export function loadMigrations(dir: URL = OWN_MIGRATIONS): Migration[] {
  const files = readdirSync(dir)
    .filter((file) => FILE_NAME.test(file))
    .sort();
  return files.map((file, index) => {
    const version = Number((FILE_NAME.exec(file) as RegExpExecArray)[1]);
    if (version !== index + 1) {
      throw new Error(`Migration ${file} is out of sequence: expected number ${index + 1}.`);
    }
    const sql = readFileSync(new URL(file, dir), "utf8");
    const checksum = createHash("sha256").update(sql).digest("hex");
    return { version, name: file.slice(0, -4), sql, checksum };
  });
}

/**
 * The advisory lock every Layover migrator of `schema` takes (so packages sharing a schema
 * never race on CREATE SCHEMA either): `pg_advisory_xact_lock(hashtextextended(key, 0))`.
 */
export function migrationLockKey(schema: string): string {
  return `layover.migrate:${schema}`;
}

async function prepare(client: PoolClient, schema: string, pkg: string): Promise<Map<number, string>> {
  const q = quoteSchema(schema);
  await client.query("SELECT pg_advisory_xact_lock(hashtextextended($1, 0))", [migrationLockKey(schema)]);
  await client.query(`CREATE SCHEMA IF NOT EXISTS ${q}`);
  await client.query(
    `CREATE TABLE IF NOT EXISTS ${q}.layover_migrations (
       package text NOT NULL, version integer NOT NULL, name text NOT NULL, checksum text NOT NULL,
       applied_at timestamptz NOT NULL DEFAULT now(), PRIMARY KEY (package, version))`,
  );
  const { rows } = await client.query<{ version: number; checksum: string }>(
    `SELECT version, checksum FROM ${q}.layover_migrations WHERE package = $1`,
    [pkg],
  );
  return new Map(rows.map((row) => [row.version, row.checksum]));
}

function checkShipped(pkg: string, migrations: readonly Migration[], applied: Map<number, string>): void {
  const known = migrations.length;
  const newest = Math.max(0, ...applied.keys());
  if (newest > known) {
    // A newer release migrated this schema: this code does not know its tables as they are now.
    throw new PostgresSaverError(
      "MIGRATION_FAILED",
      `The schema's ${pkg} tables are at migration ${newest}, newer than this release knows (${known}): ` +
        "a newer version of Layover migrated them. Run that version (or newer) here too; an older one must not " +
        "write to them.",
    );
  }
  for (const migration of migrations) {
    const checksum = applied.get(migration.version);
    if (checksum !== undefined && checksum !== migration.checksum) {
      throw new PostgresSaverError(
        "MIGRATION_FAILED",
        `Migration ${migration.name} of ${pkg} was edited after it was applied (checksum differs from the ledger). ` +
          "Shipped migrations are append-only: restore the file and add a new numbered migration.",
      );
    }
  }
}

/**
 * Applies the first pending migration in its own transaction, under the advisory lock, and
 * returns its name; undefined when none is pending. Other processes wait on the lock, then
 * find the ledger row and skip it.
 */
async function applyNext(pool: Pool, schema: string, pkg: string, migrations: readonly Migration[]) {
  return inTransaction(pool, async (client) => {
    const applied = await prepare(client, schema, pkg);
    checkShipped(pkg, migrations, applied);
    const next = migrations.find((migration) => !applied.has(migration.version));
    if (next !== undefined) {
      await client.query(`SET LOCAL search_path TO ${quoteSchema(schema)}`);
      await client.query(next.sql);
      await client.query(
        `INSERT INTO ${quoteSchema(schema)}.layover_migrations (package, version, name, checksum) VALUES ($1, $2, $3, $4)`,
        [pkg, next.version, next.name, next.checksum],
      );
    }
    return { next: next?.name, version: Math.max(0, ...applied.keys(), next?.version ?? 0) };
  });
}

export interface RunMigrationsOptions extends MigrateOptions {
  /** The package's name in the shared `layover_migrations` ledger. */
  package: string;
  /** The folder of numbered `NNNN_name.sql` files. */
  directory: URL;
}

/**
 * Applies a package's numbered SQL migrations to `schema`: each once, in its own transaction,
 * recorded in the `layover_migrations` ledger. Safe when many processes start at once: each
 * migration runs under a transaction-scoped advisory lock (shared by every Layover package
 * using the schema), and a process that waited finds it applied. Other Layover packages (the
 * runtime) migrate their own tables through this.
 */
export async function runMigrations(pool: Pool, options: RunMigrationsOptions): Promise<MigrateResult> {
  const schema = options.schema ?? DEFAULT_SCHEMA;
  quoteSchema(schema);
  const migrations = loadMigrations(options.directory);
  return withRetry(`migrate ${options.package}`, options.retry ?? {}, async () => {
    const applied: string[] = [];
    for (;;) {
      let step: { next: string | undefined; version: number };
      try {
        step = await applyNext(pool, schema, options.package, migrations);
      } catch (error) {
        if (classifyFailure(error) === "transient") throw error;
        if (error instanceof PostgresSaverError) throw error;
        throw new PostgresSaverError(
          "MIGRATION_FAILED",
          `Migrating ${options.package} in schema "${schema}" failed.`,
          {
            cause: error,
          },
        );
      }
      if (step.next === undefined) return { applied, version: step.version };
      applied.push(step.next);
    }
  });
}

/**
 * Creates or upgrades the saver's tables in `schema`: numbered SQL files from
 * `src/migrations`, each applied once, in its own transaction, recorded in the
 * `layover_migrations` ledger. Safe when many processes start at once: each migration runs
 * under a transaction-scoped advisory lock, and a process that waited finds it applied.
 */
export function migrate(pool: Pool, options: MigrateOptions = {}): Promise<MigrateResult> {
  return runMigrations(pool, { ...options, package: PACKAGE, directory: OWN_MIGRATIONS });
}
