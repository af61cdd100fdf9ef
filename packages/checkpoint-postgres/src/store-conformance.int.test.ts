import { runStoreConformance } from "@layover/checkpoint/conformance";
import { PostgresStore } from "./postgres-store.ts";
import { useSaverSchema } from "./test-support/saver-schema.ts";

const db = useSaverSchema("store_conformance");

runStoreConformance(
  "PostgresStore",
  async () => ({ store: new PostgresStore({ pool: db.pool, schema: db.name }) }),
  async (index) => ({ store: new PostgresStore({ pool: db.pool, schema: db.name, index }) }),
);
