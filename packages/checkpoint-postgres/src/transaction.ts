import type { Pool, PoolClient } from "pg";
import { classifyFailure } from "./errors.ts";

/**
 * Runs `work` in a transaction on a client of its own. The client is always handed back:
 * after COMMIT, or after ROLLBACK when anything failed — never idle in a transaction. A
 * client whose connection failed is destroyed instead of returned to the pool.
 */
export async function inTransaction<T>(pool: Pool, work: (client: PoolClient) => Promise<T>): Promise<T> {
  const client = await pool.connect();
  let failure: unknown;
  try {
    await client.query("BEGIN");
    const result = await work(client);
    await client.query("COMMIT");
    return result;
  } catch (error) {
    failure = error;
    await client.query("ROLLBACK").catch(() => {});
    throw error;
  } finally {
    client.release(failure !== undefined && classifyFailure(failure) === "transient");
  }
}
