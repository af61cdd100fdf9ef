// client.threads.delete with a checkpoint saver of the caller's own (createClient({ saver })):
// the saver's checkpoints are deleted while the thread is still locked, before the runtime's
// rows go, so a failed saver delete leaves the thread to delete again, and a run started on
// the same id meanwhile keeps its checkpoints.
import { PostgresSaver } from "@layover/checkpoint-postgres";
import { createClient, ThreadNotFoundError } from "@layover/runtime";
import { Redis } from "ioredis";
import pg from "pg";
import pino from "pino";
import { afterAll, beforeAll, expect, it } from "vitest";
import { createHarness, type Harness, threadRows } from "./support/harness.ts";

/** The checkpointer's tables through a pool of its own: to the client, a saver like any other. */
class GatedSaver extends PostgresSaver {
  failNext = false;
  /** While set, a deleteThread waits for it before it deletes. */
  gate: Promise<void> | undefined;
  deleting = false;

  override async deleteThread(threadId: string): Promise<void> {
    this.deleting = true;
    await this.gate;
    if (this.failNext) {
      this.failNext = false;
      throw new Error("saver unavailable");
    }
    await super.deleteThread(threadId);
  }
}

let h: Harness;
let saverPool: pg.Pool;
let saver: GatedSaver;
let client: ReturnType<typeof createClient>;
let connection: Redis;
beforeAll(async () => {
  h = await createHarness("thread_delete_saver");
  await h.startWorker({ id: "deleting" });
  saverPool = new pg.Pool({ connectionString: h.databaseUrl, max: 4 });
  saver = new GatedSaver({ pool: saverPool, schema: h.schema });
  connection = new Redis(h.redisUrl);
  client = createClient({
    pool: h.pool,
    connection,
    schema: h.schema,
    prefix: h.prefix,
    saver,
    logger: pino({ level: "silent" }),
  });
}, 60_000);
afterAll(async () => {
  await client?.close();
  connection?.disconnect();
  await saverPool?.end();
  await h?.close();
});

async function finishedThread() {
  const { runId, threadId } = await client.runs.start({ graphId: "linear", input: {} });
  expect(await client.runs.wait(runId)).toMatchObject({ status: "success", values: { count: 10 } });
  return threadId;
}

it("deletes the thread's rows and the saver's checkpoints", async () => {
  const threadId = await finishedThread();
  expect((await threadRows(h, threadId)).checkpoints).toBeGreaterThan(1);
  expect(await client.threads.delete(threadId)).toMatchObject({ threadId, runs: 1 });
  expect(await threadRows(h, threadId)).toEqual({ threads: 0, runs: 0, interrupts: 0, checkpoints: 0 });
});

it("a saver delete that fails deletes nothing: the thread is still there to delete again", async () => {
  const threadId = await finishedThread();
  saver.failNext = true;
  await expect(client.threads.delete(threadId)).rejects.toThrow("saver unavailable");
  expect(await threadRows(h, threadId)).toMatchObject({ threads: 1, runs: 1 });
  expect((await client.threads.get(threadId)).values).toMatchObject({ count: 10 });

  await client.threads.delete(threadId);
  expect(await threadRows(h, threadId)).toEqual({ threads: 0, runs: 0, interrupts: 0, checkpoints: 0 });
  await expect(client.threads.get(threadId)).rejects.toBeInstanceOf(ThreadNotFoundError);
});

/** Whether a backend of the test's database waits for a lock (a start waiting for the thread's row). */
async function lockWaiter(): Promise<boolean> {
  const { rows } = await h.pool.query(
    `SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'`,
  );
  return rows[0].n > 0;
}

it("a run started on the id while the saver deletes keeps its checkpoints", async () => {
  const threadId = await finishedThread();
  let open: () => void = () => {};
  saver.gate = new Promise((resolve) => {
    open = resolve;
  });
  saver.deleting = false;
  const deleting = client.threads.delete(threadId);
  await expect.poll(() => saver.deleting).toBe(true);

  let started: { runId: string } | undefined;
  const starting = client.runs.start({ graphId: "linear", threadId, input: {} }).then((run) => {
    started = run;
    return run;
  });
  // The start either waits for the thread's lock, or (were the delete over) goes ahead.
  await expect
    .poll(async () => started !== undefined || (await lockWaiter()), { timeout: 10_000 })
    .toBe(true);
  if (started !== undefined) await client.runs.wait(started.runId);
  open();
  saver.gate = undefined;
  await deleting;

  const run = await starting;
  expect(await client.runs.wait(run.runId)).toMatchObject({ status: "success", values: { count: 10 } });
  // The new run's checkpoints were not taken by the delete of the thread before it.
  expect((await client.threads.get(threadId)).values).toMatchObject({ count: 10 });
  const history = [];
  for await (const snapshot of client.threads.history(threadId)) history.push(snapshot);
  expect(history.length).toBeGreaterThan(1);
});
