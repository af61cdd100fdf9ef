// client.threads.delete with a saver of the caller's own on the caller's own pool (a
// PostgresSaver given explicitly, as createClient({ pool, connection, saver }) allows): the
// delete holds a pooled connection (the thread's lock) while the saver deletes, so a saver
// needing a second connection from the same pool waits for the transaction it belongs to.
import { PostgresSaver } from "@layover/checkpoint-postgres";
import { createClient } from "@layover/runtime";
import { Redis } from "ioredis";
import pg from "pg";
import pino from "pino";
import { afterAll, beforeAll, expect, it } from "vitest";
import { createHarness, type Harness, threadRows } from "./support/harness.ts";

let h: Harness;
let pool: pg.Pool;
let connection: Redis;
let client: ReturnType<typeof createClient>;
beforeAll(async () => {
  h = await createHarness("thread_delete_shared_pool");
  await h.startWorker({ id: "deleting-shared" });
  pool = new pg.Pool({ connectionString: h.databaseUrl, max: 2 });
  connection = new Redis(h.redisUrl);
  client = createClient({
    pool,
    connection,
    schema: h.schema,
    prefix: h.prefix,
    saver: new PostgresSaver({ pool, schema: h.schema }),
    logger: pino({ level: "silent" }),
  });
}, 60_000);
afterAll(async () => {
  await client?.close();
  connection?.disconnect();
  await pool?.end();
  await h?.close();
});

it("as many deletes at once as the pool has connections all finish", async () => {
  const threadIds: string[] = [];
  for (let i = 0; i < 2; i++) {
    const { runId, threadId } = await client.runs.start({ graphId: "linear", input: {} });
    await client.runs.wait(runId);
    threadIds.push(threadId);
  }
  const hung = new Promise((resolve) => setTimeout(() => resolve("hung"), 10_000).unref());
  const deletes = Promise.all(threadIds.map((id) => client.threads.delete(id)));
  expect(await Promise.race([deletes, hung])).not.toBe("hung");
  for (const id of threadIds)
    expect(await threadRows(h, id)).toEqual({ threads: 0, runs: 0, interrupts: 0, checkpoints: 0 });
}, 30_000);
