import type { Pool, PoolClient } from "pg";
import { classifyFailure, isQueryTimeout } from "./errors.ts";

/**
 * Runs `work` in a transaction on a client of its own. The client is always handed back after
 * COMMIT or ROLLBACK, never idle in a transaction; one whose connection failed, or still runs a
 * statement nobody waits for, is destroyed instead of returned to the pool.
 */
export async function inTransaction<T>(pool: Pool, work: (client: PoolClient) => Promise<T>): Promise<T> {
  const client = await pool.connect();
  let discard: Error | boolean = false;
  try {
    await client.query("BEGIN");
    const result = await work(client);
    await client.query("COMMIT");
    return result;
  } catch (error) {
    discard = await rollBack(client, error);
    throw error;
  } finally {
    client.release(discard);
  }
}

/** Ends a failed transaction; says whether (or why) its client must be dropped rather than pooled. */
async function rollBack(client: PoolClient, failure: unknown): Promise<Error | boolean> {
  // A statement that went unanswered (pg's query_timeout) still runs on the connection, inside
  // the transaction: a ROLLBACK would wait behind it, and could give up in turn, leaving the
  // transaction open for the pool's next caller — whose statements would then never commit.
  // Dropping the connection makes the server roll back.
  if (isQueryTimeout(failure)) return true;
  try {
    await client.query("ROLLBACK");
  } catch (error) {
    return error instanceof Error ? error : true;
  }
  return classifyFailure(failure) === "transient";
}
