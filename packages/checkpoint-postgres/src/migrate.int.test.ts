import { execFile } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { promisify } from "node:util";
import { getPostgres, uniqueSchemaName } from "@layover/testing";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { isPostgresSaverError } from "./errors.ts";
import { loadMigrations, type MigrateResult, migrate, runMigrations } from "./migrate.ts";

const run = promisify(execFile);
/** This package's migrations, as a fresh schema gets them. */
const ALL = ["0001_checkpoint_tables", "0002_store", "0003_cache", "0004_store_vectors"];
let url: string;
let admin: pg.Pool;
const schemas: string[] = [];

/** A schema name of this file's own; migrate() creates it, afterAll drops it. */
function freshSchema(label: string): string {
  const name = uniqueSchemaName(`migrate_${label}`);
  schemas.push(name);
  return name;
}

async function ledger(schema: string) {
  const { rows } = await admin.query(
    `SELECT package, version, name FROM "${schema}".layover_migrations ORDER BY package, version`,
  );
  return rows;
}

async function tables(schema: string): Promise<string[]> {
  const { rows } = await admin.query<{ name: string }>(
    "SELECT table_name AS name FROM information_schema.tables WHERE table_schema = $1 ORDER BY 1",
    [schema],
  );
  return rows.map((row) => row.name);
}

async function expectCode(promise: Promise<unknown>, code: string) {
  const error = await promise.then(
    () => undefined,
    (caught: unknown) => caught,
  );
  expect(isPostgresSaverError(error, code as never), String(error)).toBe(true);
  return error as Error;
}

beforeAll(async () => {
  url = await getPostgres();
  admin = new pg.Pool({ connectionString: url, max: 2 });
});

afterAll(async () => {
  for (const schema of schemas) await admin.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
  await admin.end();
});

describe("migrate", () => {
  it("creates the schema, the tables and the ledger, and applies each migration once", async () => {
    const schema = freshSchema("once");
    expect(await migrate(admin, { schema })).toEqual({ applied: ALL, version: ALL.length });
    expect(await migrate(admin, { schema })).toEqual({ applied: [], version: ALL.length });
    expect(await tables(schema)).toEqual([
      "cache_entries",
      "checkpoint_blobs",
      "checkpoint_heads",
      "checkpoint_writes",
      "checkpoints",
      "layover_migrations",
      "store_items",
      "store_vectors",
    ]);
    expect(await ledger(schema)).toEqual([
      { package: "checkpoint-postgres", version: 1, name: "0001_checkpoint_tables" },
      { package: "checkpoint-postgres", version: 2, name: "0002_store" },
      { package: "checkpoint-postgres", version: 3, name: "0003_cache" },
      { package: "checkpoint-postgres", version: 4, name: "0004_store_vectors" },
    ]);
  });

  it("applies each migration exactly once when ten callers race on separate connections", async () => {
    const schema = freshSchema("pools");
    const pools = Array.from({ length: 10 }, () => new pg.Pool({ connectionString: url, max: 1 }));
    try {
      const results = await Promise.all(pools.map((pool) => migrate(pool, { schema })));
      expect(results.flatMap((result) => result.applied).sort()).toEqual(ALL);
      expect(results.every((result) => result.version === ALL.length)).toBe(true);
    } finally {
      await Promise.all(pools.map((pool) => pool.end()));
    }
    expect(await ledger(schema)).toHaveLength(loadMigrations().length);
  });

  it("applies each migration exactly once when ten processes start at once", async () => {
    const schema = freshSchema("processes");
    const script = new URL("./test-support/migrate-process.ts", import.meta.url);
    const outputs = await Promise.all(
      Array.from({ length: 10 }, () =>
        run(process.execPath, [script.pathname, url, schema], { timeout: 60_000 }),
      ),
    );
    const results = outputs.map((output) => JSON.parse(output.stdout) as MigrateResult);
    expect(results.flatMap((result) => result.applied).sort()).toEqual(ALL);
    expect(await ledger(schema)).toHaveLength(ALL.length);
  });

  it("refuses to run when a shipped migration was edited after it was applied", async () => {
    const schema = freshSchema("edited");
    await migrate(admin, { schema });
    await admin.query(`UPDATE "${schema}".layover_migrations SET checksum = 'edited' WHERE version = 1`);
    const error = await expectCode(migrate(admin, { schema }), "MIGRATION_FAILED");
    expect(error.message).toContain("0001_checkpoint_tables");
    expect(error.message).toContain("append-only");
  });

  it("refuses to run on tables a newer release migrated, changing nothing", async () => {
    const schema = freshSchema("newer");
    const current = await migrate(admin, { schema });
    const future = current.version + 1;
    await admin.query(
      `INSERT INTO "${schema}".layover_migrations (package, version, name, checksum)
       VALUES ('checkpoint-postgres', $1, 'future_change', 'x')`,
      [future],
    );
    const error = await expectCode(migrate(admin, { schema }), "MIGRATION_FAILED");
    expect(error.message).toContain(
      `at migration ${future}, newer than this release knows (${current.version})`,
    );
    expect((await ledger(schema)).length).toBe(future);
  });

  it("rejects a schema name that would need quoting", async () => {
    await expectCode(migrate(admin, { schema: 'bad"; DROP TABLE x; --' }), "INVALID_SAVER_INPUT");
  });
});

describe("runMigrations (another package's files)", () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "layover-migrations-"));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });
  const directory = () => pathToFileURL(`${dir}/`);

  it("rolls a failing migration back entirely, keeps the ones before it, and resumes once fixed", async () => {
    const schema = freshSchema("failing");
    await writeFile(join(dir, "0001_first.sql"), "CREATE TABLE first_table (id int);");
    await writeFile(join(dir, "0002_second.sql"), "CREATE TABLE second_table (id int); SELECT 1 / 0;");
    const error = await expectCode(
      runMigrations(admin, { schema, package: "sample", directory: directory() }),
      "MIGRATION_FAILED",
    );
    expect(String((error as { cause?: unknown }).cause)).toContain("division by zero");
    expect(await tables(schema)).toEqual(["first_table", "layover_migrations"]);
    await writeFile(join(dir, "0002_second.sql"), "CREATE TABLE second_table (id int);");
    const fixed = await runMigrations(admin, { schema, package: "sample", directory: directory() });
    expect(fixed).toEqual({ applied: ["0002_second"], version: 2 });
    expect(await migrate(admin, { schema })).toEqual({ applied: ALL, version: ALL.length });
    expect((await ledger(schema)).map((row) => `${row.package}:${row.name}`)).toEqual([
      "checkpoint-postgres:0001_checkpoint_tables",
      "checkpoint-postgres:0002_store",
      "checkpoint-postgres:0003_cache",
      "checkpoint-postgres:0004_store_vectors",
      "sample:0001_first",
      "sample:0002_second",
    ]);
  });

  it("refuses numbered files with a gap", async () => {
    const gapped = await mkdtemp(join(tmpdir(), "layover-gap-"));
    try {
      await writeFile(join(gapped, "0001_a.sql"), "SELECT 1;");
      await writeFile(join(gapped, "0003_c.sql"), "SELECT 1;");
      expect(() => loadMigrations(pathToFileURL(`${gapped}/`))).toThrow(/out of sequence/);
    } finally {
      await rm(gapped, { recursive: true, force: true });
    }
  });
});
