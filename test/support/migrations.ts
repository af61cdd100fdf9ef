// The runtime's migrations as an earlier release shipped them: a folder of those up to a version,
// for tests of an upgrade (runMigrations applies what the real folder adds after it).
import { mkdtempSync, readdirSync, symlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";

const MIGRATIONS = new URL("../../packages/runtime/src/migrations/", import.meta.url);

/** A temporary folder holding (links to) the runtime's migrations numbered `version` or lower. */
export function runtimeMigrationsUpTo(version: number): URL {
  const dir = mkdtempSync(join(tmpdir(), "layover-migrations-"));
  for (const file of readdirSync(MIGRATIONS))
    if (/^\d{4}_/.test(file) && Number(file.slice(0, 4)) <= version)
      symlinkSync(new URL(file, MIGRATIONS), join(dir, file));
  return pathToFileURL(`${dir}/`);
}
