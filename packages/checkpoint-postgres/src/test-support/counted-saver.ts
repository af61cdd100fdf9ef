// The fixture of the saver's statement-counting tests: a migrated test schema, an admin pool,
// and a PostgresSaver on a pool that records every statement it sends.
import { useTestSchema } from "@layover/testing/vitest";
import pg from "pg";
import { afterAll, beforeAll } from "vitest";
import { migrate } from "../migrate.ts";
import { PostgresSaver } from "../postgres-saver.ts";
import { countingPool } from "./pools.ts";

export interface CountedSaver {
  schema: { name: string; url: string };
  admin: pg.Pool;
  counted: ReturnType<typeof countingPool>;
  saver: PostgresSaver;
  /** Statements the saver sends while `work` runs. */
  statementsOf(work: () => Promise<unknown>): Promise<string[]>;
}

/** Sets the fixture up before the file's tests and tears it down after; read it inside tests. */
export function useCountedSaver(label: string, adminConnections = 2): CountedSaver {
  const schema = useTestSchema(label);
  const fixture = {
    get schema() {
      return schema.current;
    },
    async statementsOf(work: () => Promise<unknown>) {
      const start = fixture.counted.statements.length;
      await work();
      return fixture.counted.statements.slice(start);
    },
  } as unknown as CountedSaver;
  beforeAll(async () => {
    fixture.admin = new pg.Pool({ connectionString: schema.current.url, max: adminConnections });
    await migrate(fixture.admin, { schema: schema.current.name });
    fixture.counted = countingPool(schema.current.url, 4);
    fixture.saver = new PostgresSaver({ pool: fixture.counted.pool, schema: schema.current.name });
  });
  afterAll(async () => {
    await fixture.counted.pool.end();
    await fixture.admin.end();
  });
  return fixture;
}
