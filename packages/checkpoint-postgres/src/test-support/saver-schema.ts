// The set-up most of this package's integration tests share: a schema of their own, migrated,
// with a pool and a saver on it for the whole file.
import { useTestSchema } from "@layover/testing/vitest";
import pg from "pg";
import { afterAll, beforeAll } from "vitest";
import { migrate } from "../migrate.ts";
import { PostgresSaver } from "../postgres-saver.ts";
import type { PostgresSaverOptions } from "../saver-options.ts";

export interface SaverSchema {
  /** The schema's name. */
  readonly name: string;
  readonly url: string;
  readonly pool: pg.Pool;
  readonly saver: PostgresSaver;
}

/**
 * A schema named after `prefix`, migrated in beforeAll, with a pool of 4 and a saver (given
 * `options`) on it; the pool ends in afterAll. Its fields are there from beforeAll on.
 */
export function useSaverSchema(
  prefix: string,
  options: Omit<PostgresSaverOptions, "pool" | "schema"> = {},
): SaverSchema {
  const schema = useTestSchema(prefix);
  let pool: pg.Pool | undefined;
  let saver: PostgresSaver | undefined;
  beforeAll(async () => {
    pool = new pg.Pool({ connectionString: schema.current.url, max: 4 });
    await migrate(pool, { schema: schema.current.name });
    saver = new PostgresSaver({ ...options, pool, schema: schema.current.name });
  });
  afterAll(async () => {
    await pool?.end();
  });
  const set = <T>(value: T | undefined): T => {
    if (value === undefined) throw new Error("useSaverSchema: read before beforeAll ran");
    return value;
  };
  return {
    get name() {
      return schema.current.name;
    },
    get url() {
      return schema.current.url;
    },
    get pool() {
      return set(pool);
    },
    get saver() {
      return set(saver);
    },
  };
}
