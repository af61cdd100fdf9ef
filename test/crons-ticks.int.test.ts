// A cron's ticks that come together start one run, as the README promises: after a Postgres outage
// (the tick put back and the next one, both due once it ends), and on a fixed thread parked for a
// person, however many ticks pass, and while they pile up behind a slow statement. And what would make a cron tick into
// refusals for ever is refused at crons.create, or said once by the scheduler.
import { Writable } from "node:stream";
import { cronSchedulerId, SCHEDULER_QUEUE } from "@layover/runtime";
import { createScheduler } from "@layover/scheduler";
import { tcpProxy } from "@layover/testing";
import { Queue } from "bullmq";
import { Redis } from "ioredis";
import pino from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createHarness, type Harness } from "./support/harness.ts";
import { until } from "./support/until.ts";

let h: Harness;
beforeAll(async () => {
  h = await createHarness("crons-ticks");
  await h.startWorker();
}, 60_000);
afterAll(async () => {
  await h?.close();
});

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** The runs of `cronId`'s ticks, one row per tick: when it fell due (ms) and how many runs it has. */
async function tickRuns(cronId: string): Promise<{ dueAt: number; runs: number }[]> {
  const { rows } = await h.pool.query<{ key: string; runs: number }>(
    `SELECT idempotency_key AS key, count(*)::int AS runs FROM "${h.schema}".runs
      WHERE idempotency_key LIKE $1 GROUP BY 1 ORDER BY 1`,
    [`cron-${cronId}-%`],
  );
  return rows.map((row) => ({ dueAt: Number(row.key.split("-").pop()), runs: row.runs }));
}

/** A thread parked for a person, and a cron ticking every second on it; its runs counted by status. */
async function everySecondOnParkedThread() {
  const { threadId, runId } = await h.client.runs.start({ graphId: "approval", input: { item: "first" } });
  expect((await h.client.runs.wait(runId)).status).toBe("interrupted");
  const cron = await h.client.crons.create({
    graphId: "approval",
    schedule: "* * * * * *",
    input: { item: "nightly" },
    threadId,
  });
  const cronRuns = async (status: string) => {
    const { rows } = await h.pool.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM "${h.schema}".runs
        WHERE thread_id = $1 AND status = $2 AND idempotency_key LIKE $3`,
      [threadId, status, `cron-${cron.id}-%`],
    );
    return rows[0]?.n ?? 0;
  };
  return { threadId, cron, cronRuns };
}

describe("ticks that fell due together", () => {
  it("after a Postgres outage: at most one run for the ticks due during it, then one per tick again", async () => {
    const proxy = await tcpProxy(h.databaseUrl);
    const scheduler = createScheduler({
      ...h.deployment,
      databaseUrl: proxy.url,
      logger: pino({ level: "silent" }),
      schedulerId: "crons-ticks-outage",
      reconcileEveryMs: 60_000,
      sweepEveryMs: 60_000,
    });
    await scheduler.start();
    const cron = await h.client.crons.create({ graphId: "linear", schedule: "* * * * * *", input: {} });
    try {
      await sleep(2_500);
      const cutAt = Date.now();
      proxy.cut();
      await sleep(5_000);
      proxy.restore();
      const backAt = Date.now();
      await sleep(4_000);
      await h.client.crons.delete(cron.id);
      const ticks = await tickRuns(cron.id);
      expect(ticks.every((tick) => tick.runs === 1)).toBe(true);
      // One, or none when the scheduler first took a tick due after Postgres came back, which
      // stands in for them (postgres-long-outage.e2e.test.ts met the same race).
      expect(ticks.filter((tick) => tick.dueAt > cutAt && tick.dueAt < backAt).length).toBeLessThanOrEqual(1);
      // Back on its schedule: the ticks since (the first second aside) each started their run.
      const since = ticks.filter((tick) => tick.dueAt > backAt + 1_000 && tick.dueAt < backAt + 3_500);
      expect(since.length).toBeGreaterThanOrEqual(2);
    } finally {
      await scheduler.close();
      await proxy.close();
    }
  }, 40_000);

  it("on a thread waiting for a person: one run waits, however many ticks pass", async () => {
    const { threadId, cron, cronRuns } = await everySecondOnParkedThread();
    const queued = () => cronRuns("pending");
    const stop = await h.startScheduler({ id: "scheduler-parked" });
    try {
      while ((await queued()) === 0) await sleep(50);
      await sleep(3_000); // three more ticks
      expect(await queued()).toBe(1);
      // Answered, the thread takes the queued run, which parks in turn: the next tick queues one.
      await h.client.threads.resume(threadId, "yes");
      const deadline = Date.now() + 5_000;
      while ((await cronRuns("interrupted")) === 0) {
        if (Date.now() > deadline) throw new Error("the queued run never took the thread");
        await sleep(50);
      }
      await sleep(1_500);
      expect(await queued()).toBe(1);
    } finally {
      await h.client.crons.delete(cron.id);
      await stop();
    }
  });

  it("the same behind a slow statement, its ticks overlapping: one run waits, not one per tick", async () => {
    const { threadId, cron, cronRuns } = await everySecondOnParkedThread();
    // A transaction holds the thread's row (a slow commit): each tick's start waits on it.
    const lock = await h.pool.connect();
    await lock.query("BEGIN");
    await lock.query(`SELECT 1 FROM "${h.schema}".threads WHERE id = $1 FOR UPDATE`, [threadId]);
    const stop = await h.startScheduler({ id: "crons-ticks-parked" });
    try {
      await sleep(3_500);
      await lock.query("COMMIT");
      await sleep(2_500);
      expect(await cronRuns("pending")).toBe(1);
    } finally {
      await lock.query("ROLLBACK").catch(() => {});
      lock.release();
      await h.client.crons.delete(cron.id);
      await stop();
    }
  }, 30_000);
});

describe("crons.delete", () => {
  it("cancels the run its ticks queued behind a thread waiting for a person: none begins once the person answers", async () => {
    const { threadId, cron, cronRuns } = await everySecondOnParkedThread();
    const stop = await h.startScheduler({ id: "crons-ticks-delete-queued" });
    try {
      await until(async () => (await cronRuns("pending")) === 1, 10_000, "no tick queued a run");
    } finally {
      await stop();
    }
    expect(await h.client.crons.delete(cron.id)).toBe(true);
    expect([await cronRuns("pending"), await cronRuns("cancelled")]).toEqual([0, 1]);
    // The person answers what the thread waited for: its run finishes, and nothing follows it.
    const { runId } = await h.client.threads.resume(threadId, "yes");
    expect((await h.client.runs.wait(runId)).status).toBe("success");
    expect((await h.client.threads.get(threadId)).status).toBe("idle");
  });
});

describe("a cron that would tick into refusals", () => {
  it("on a new thread another graph's cron ticks on: refused at create, nothing written", async () => {
    const threadId = `shared-${Date.now()}`;
    const first = await h.client.crons.create({
      graphId: "linear",
      schedule: "0 0 * * *",
      input: {},
      threadId,
    });
    try {
      await expect(
        h.client.crons.create({ graphId: "flaky", schedule: "0 0 * * *", input: {}, threadId }),
      ).rejects.toMatchObject({
        code: "INVALID_INPUT",
        message: expect.stringContaining(`is the thread of cron ${first.id}, of graph "linear"`),
      });
      expect((await h.client.crons.list()).filter((cron) => cron.thread_id === threadId)).toHaveLength(1);
      // The same graph's second cron on it is taken.
      const second = await h.client.crons.create({
        graphId: "linear",
        schedule: "0 1 * * *",
        input: {},
        threadId,
      });
      await h.client.crons.delete(second.id);
    } finally {
      await h.client.crons.delete(first.id);
    }
  });

  it("a start of another graph on a cron's thread not made yet is refused: the cron holds it from its create", async () => {
    const threadId = `digest-${Date.now()}`;
    const cron = await h.client.crons.create({
      graphId: "linear",
      schedule: "0 0 * * *",
      input: {},
      threadId,
    });
    try {
      // Before, the start took the thread, and every tick after was refused for good.
      await expect(h.client.runs.start({ graphId: "flaky", input: {}, threadId })).rejects.toMatchObject({
        code: "INVALID_INPUT",
        message: expect.stringContaining('runs graph "linear"'),
      });
      expect(await h.client.threads.get(threadId)).toMatchObject({ status: "idle", graphId: "linear" });
      // The cron's own graph starts on it as on any thread of its graph.
      const { runId } = await h.client.runs.start({ graphId: "linear", input: {}, threadId });
      expect((await h.client.runs.wait(runId)).status).toBe("success");
    } finally {
      await h.client.crons.delete(cron.id);
    }
  });

  it("two creates at once for two graphs on one new thread: one is refused, in each of 10 trials", async () => {
    for (let trial = 0; trial < 10; trial++) {
      const threadId = `race-${Date.now()}-${trial}`;
      const results = await Promise.allSettled([
        h.client.crons.create({ graphId: "linear", schedule: "0 0 * * *", input: {}, threadId }),
        h.client.crons.create({ graphId: "flaky", schedule: "0 0 * * *", input: {}, threadId }),
      ]);
      const made = results.flatMap((result) => (result.status === "fulfilled" ? [result.value] : []));
      for (const cron of made) await h.client.crons.delete(cron.id);
      expect(made).toHaveLength(1);
      expect(results.find((result) => result.status === "rejected")).toMatchObject({
        reason: { code: "INVALID_INPUT" },
      });
    }
  });

  it("one stored with a schedule BullMQ refuses: said once, not set again at every check", async () => {
    const { rows } = await h.pool.query<{ id: string }>(
      `INSERT INTO "${h.schema}".crons (id, graph_id, schedule, input)
       VALUES (gen_random_uuid(), 'linear', '61 * * * *', '{}') RETURNING id`,
    );
    const lines: { msg: string }[] = [];
    const sink = new Writable({
      write(chunk, _encoding, done) {
        for (const line of String(chunk).split("\n").filter(Boolean)) lines.push(JSON.parse(line));
        done();
      },
    });
    const scheduler = createScheduler({
      ...h.deployment,
      logger: pino({ level: "info" }, sink),
      reconcileEveryMs: 300,
      schedulerId: "crons-ticks-refused",
    });
    await scheduler.start();
    try {
      await sleep(3_000);
    } finally {
      await scheduler.close();
      await h.pool.query(`DELETE FROM "${h.schema}".crons WHERE id = $1`, [rows[0]?.id]);
    }
    const said = (text: string) => lines.filter((line) => line.msg.includes(text)).length;
    expect(said("a cron's schedule was refused")).toBe(1);
    expect(said("Redis lacks some of the scheduler's schedules")).toBe(0);
  }, 30_000);

  it("a schedule Redis lost is set again after the refused cron was deleted", async () => {
    const { rows } = await h.pool.query<{ id: string }>(
      `INSERT INTO "${h.schema}".crons (id, graph_id, schedule, input)
       VALUES (gen_random_uuid(), 'linear', '61 * * * *', '{}') RETURNING id`,
    );
    const refused = rows[0]?.id as string;
    const good = await h.client.crons.create({ graphId: "linear", schedule: "0 0 * * *", input: {} });
    const scheduler = createScheduler({
      ...h.deployment,
      logger: pino({ level: "silent" }),
      reconcileEveryMs: 300,
      schedulerId: "crons-ticks-refused-deleted",
    });
    await scheduler.start();
    const redis = new Redis(h.redisUrl, { maxRetriesPerRequest: null });
    const schedules = new Queue(SCHEDULER_QUEUE, { connection: redis, prefix: h.prefix });
    try {
      // An operator deletes the refused cron, as its log line says; then Redis loses the other's schedule.
      await h.client.crons.delete(refused);
      await schedules.removeJobScheduler(cronSchedulerId(good.id));
      const held = async () => (await schedules.getJobScheduler(cronSchedulerId(good.id))) !== undefined;
      await until(held, 5_000, "the lost schedule was not set again");
    } finally {
      await schedules.close();
      redis.disconnect();
      await scheduler.close();
      await h.client.crons.delete(good.id);
    }
  }, 30_000);
});
