import { runCheckpointSaverConformance } from "@layover/checkpoint/conformance";
import { useTestSchema } from "@layover/testing/vitest";
import pg from "pg";
import { afterAll, beforeAll } from "vitest";
import { migrate } from "./migrate.ts";
import { PostgresSaver } from "./postgres-saver.ts";

const schema = useTestSchema("conformance");
let pool: pg.Pool;

beforeAll(async () => {
  pool = new pg.Pool({ connectionString: schema.current.url, max: 4 });
  await migrate(pool, { schema: schema.current.name });
});

afterAll(async () => {
  await pool.end();
});

runCheckpointSaverConformance("PostgresSaver", async () => ({
  saver: new PostgresSaver({ pool, schema: schema.current.name }),
}));

runCheckpointSaverConformance("PostgresSaver without list deltas, one-row pages", async () => ({
  saver: new PostgresSaver({ pool, schema: schema.current.name, listDeltas: false, listPageSize: 1 }),
}));
