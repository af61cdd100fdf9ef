import { randomBytes } from "node:crypto";
import pg from "pg";
import { getPostgres } from "./postgres.ts";

/** A schema of its own for one test file: create it, use it, drop it. */
export interface TestSchema {
  /** The schema name (lowercase letters, digits and `_`: safe unquoted). */
  name: string;
  /** The server's connection URL. */
  url: string;
  /** Drops the schema and everything in it. Safe to call twice. */
  drop(): Promise<void>;
}

/** A unique, valid schema name starting with `prefix` (sanitised, at most 63 bytes). */
export function uniqueSchemaName(prefix: string): string {
  const clean = prefix
    .toLowerCase()
    .replace(/[^a-z0-9_]+/g, "_")
    .replace(/^[^a-z_]+/, "");
  const suffix = `${process.pid}_${randomBytes(4).toString("hex")}`;
  return `${(clean || "t").slice(0, 63 - suffix.length - 1)}_${suffix}`;
}

async function run(url: string, sql: string): Promise<void> {
  const client = new pg.Client({ connectionString: url });
  client.on("error", () => {});
  try {
    await client.connect();
    await client.query(sql);
  } finally {
    await client.end().catch(() => {});
  }
}

/**
 * Creates an empty schema named after `prefix` on the test Postgres (`getPostgres()`), so each
 * test file works in isolation on a shared server. Call `drop()` when the file is done (the
 * vitest helper `useTestSchema` does both).
 */
export async function createTestSchema(prefix: string): Promise<TestSchema> {
  const url = await getPostgres();
  const name = uniqueSchemaName(prefix);
  await run(url, `CREATE SCHEMA "${name}"`);
  let dropped = false;
  return {
    name,
    url,
    async drop() {
      if (dropped) return;
      dropped = true;
      await run(url, `DROP SCHEMA IF EXISTS "${name}" CASCADE`);
    },
  };
}
