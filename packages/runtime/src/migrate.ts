import { type MigrateResult, runMigrations } from "@layover/checkpoint-postgres";
import type pg from "pg";

/**
 * Creates or upgrades the runtime's tables (graphs, threads, runs, interrupts) from the
 * numbered files in `src/migrations`, with the same ledger and advisory lock as the
 * checkpointer's migrations: safe when many workers start at once.
 */
export function migrateRuntime(pool: pg.Pool, options: { schema?: string } = {}): Promise<MigrateResult> {
  return runMigrations(pool, {
    ...options,
    package: "runtime",
    directory: new URL("./migrations/", import.meta.url),
  });
}
