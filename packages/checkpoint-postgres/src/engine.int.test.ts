import { runEngineSuite } from "@layover/graph/testing";
import { useTestSchema } from "@layover/testing/vitest";
import pg from "pg";
import { afterAll } from "vitest";
import { migrate } from "./migrate.ts";
import { PostgresSaver } from "./postgres-saver.ts";

const schema = useTestSchema("engine_suite");
let pool: pg.Pool | undefined;

afterAll(async () => {
  await pool?.end();
});

runEngineSuite("PostgresSaver", async () => {
  pool = new pg.Pool({ connectionString: schema.current.url, max: 4 });
  await migrate(pool, { schema: schema.current.name });
  return new PostgresSaver({ pool, schema: schema.current.name });
});
