// The vitest face of the fixtures: hooks that give a test file its own schema. The core
// helpers (index.ts) do not import vitest.
import { afterAll, beforeAll } from "vitest";
import { createTestSchema, type TestSchema } from "./test-schema.ts";

/**
 * Creates a schema for this test file before its tests and drops it after them.
 * Read `.current` inside tests and hooks.
 *
 * @example
 * const schema = useTestSchema("checkpoint_pg");
 * beforeAll(async () => { pool = new Pool({ connectionString: schema.current.url }); });
 */
export function useTestSchema(prefix: string): { readonly current: TestSchema } {
  let schema: TestSchema | undefined;
  beforeAll(async () => {
    schema = await createTestSchema(prefix);
  });
  afterAll(async () => {
    await schema?.drop();
  });
  return {
    get current(): TestSchema {
      if (schema === undefined) throw new Error("The test schema exists only inside tests and hooks.");
      return schema;
    },
  };
}
