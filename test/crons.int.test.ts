// Cron runs: the zone a schedule ticks in and its DST changes, what crons.create refuses, a tick
// that fell due while no scheduler ran, schedules Redis lost, and a delete racing a tick. Ticks on
// a thread waiting for a person: crons-ticks.int.test.ts.
import { cronSchedulerId, SCHEDULER_QUEUE } from "@layover/runtime";
import { deleteRedisPrefix } from "@layover/testing";
import { Queue } from "bullmq";
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { createHarness, type Harness } from "./support/harness.ts";

let h: Harness;
let redis: Redis;
let schedulers: Queue;

beforeAll(async () => {
  h = await createHarness("crons");
  await h.startWorker({ id: "worker-crons" });
  redis = new Redis(h.redisUrl, { maxRetriesPerRequest: null });
  schedulers = new Queue(SCHEDULER_QUEUE, { connection: redis, prefix: h.prefix });
}, 60_000);
afterAll(async () => {
  await schedulers?.close();
  redis?.disconnect();
  await h?.close();
});

async function cronThreads(cronId: string): Promise<string[]> {
  const { rows } = await h.pool.query(
    `SELECT thread_id FROM "${h.schema}".runs WHERE thread_id LIKE $1 ORDER BY thread_id`,
    [`cron-${cronId}-%`],
  );
  return rows.map((r) => r.thread_id as string);
}

/** The values of the first run cron `cronId` starts, a scheduler `schedulerId` running; the cron is deleted after. */
async function firstRunValues(cronId: string, schedulerId: string): Promise<Record<string, unknown>> {
  const stop = await h.startScheduler({ id: schedulerId });
  try {
    while ((await cronThreads(cronId)).length === 0) await new Promise((resolve) => setTimeout(resolve, 50));
    const [threadId] = await cronThreads(cronId);
    const [run] = await h.client.threads.runs(threadId as string);
    return (await h.client.runs.wait(run?.runId as string)).values;
  } finally {
    await h.client.crons.delete(cronId);
    await stop();
  }
}

describe("crons", () => {
  it("a schedule without a time zone ticks in UTC, whatever the producer's zone", async () => {
    const zone = process.env.TZ;
    process.env.TZ = "Asia/Tokyo";
    try {
      const cron = await h.client.crons.create({ graphId: "linear", schedule: "0 0 12 * * *", input: {} });
      const next = (await schedulers.getJobScheduler(cronSchedulerId(cron.id)))?.next as number;
      expect(new Date(next).getUTCHours()).toBe(12);
      expect(await h.client.crons.delete(cron.id)).toBe(true);
    } finally {
      if (zone === undefined) delete process.env.TZ;
      else process.env.TZ = zone;
    }
  });

  it("refuses a graph, input or time zone it could not run, storing nothing", async () => {
    const before = (await h.client.crons.list()).length;
    const create = (spec: Record<string, unknown>) =>
      h.client.crons.create({ graphId: "linear", schedule: "* * * * *", input: {}, ...spec });
    await expect(create({ graphId: "nope" })).rejects.toMatchObject({ code: "UNKNOWN_GRAPH" });
    await expect(create({ graphId: "approval", input: { item: 5 } })).rejects.toMatchObject({
      code: "INVALID_INPUT",
    });
    await expect(create({ timezone: "Mars/Olympus" })).rejects.toMatchObject({
      code: "INVALID_CONFIG",
      message: expect.stringContaining("Unknown time zone"),
    });
    // A schedule that is not a string, and a thread another graph runs (every tick would fail).
    await expect(create({ schedule: undefined })).rejects.toMatchObject({ code: "INVALID_CONFIG" });
    await expect(create({ schedule: 5 })).rejects.toMatchObject({ code: "INVALID_CONFIG" });
    const other = await h.client.runs.start({ graphId: "approval", input: { item: "someone else's" } });
    await expect(create({ threadId: other.threadId })).rejects.toMatchObject({
      code: "INVALID_INPUT",
      message: expect.stringContaining(`runs graph "approval", not "linear"`),
    });
    await expect(create({ threadId: 7 })).rejects.toMatchObject({ code: "INVALID_INPUT" });
    // Postgres text cannot hold NUL: runs.start refuses such an id, so every tick would fail.
    await expect(create({ threadId: "a\u0000b" })).rejects.toMatchObject({ code: "INVALID_INPUT" });
    expect((await h.client.crons.list()).length).toBe(before);
    expect(await h.client.crons.delete("not-a-cron-id")).toBe(false);
  });

  it("refuses a schedule that parses but never falls due, storing nothing in Postgres or Redis", async () => {
    const before = (await h.client.crons.list()).length;
    // The 31st of April or June: BullMQ parses it, finds no next tick, and adds no scheduler.
    for (const schedule of ["0 0 31 4,6 *", "0 0 0 31 2-4/2 *"])
      await expect(h.client.crons.create({ graphId: "linear", schedule, input: {} })).rejects.toMatchObject({
        code: "INVALID_CONFIG",
        message: expect.stringContaining(schedule),
      });
    expect((await h.client.crons.list()).length).toBe(before);
    const cronSchedules = (await schedulers.getJobSchedulers()).filter((s) => s.key.startsWith("cron."));
    expect(cronSchedules).toEqual([]);
  });

  it("refuses a step as long as its field (it falls once, at the range's start) and says macros are not taken", async () => {
    const before = (await h.client.crons.list()).length;
    // "*/61 * * * *" ticked hourly at :00, quietly; "0 */24 * * *" daily.
    for (const [schedule, field] of [
      ["*/61 * * * *", "minutes"],
      ["0 */24 * * *", "hours"],
      ["*/90 * * * * *", "seconds"],
      ["0 0 1 1,*/12 *", "months"],
    ] as const)
      await expect(h.client.crons.create({ graphId: "linear", schedule, input: {} })).rejects.toMatchObject({
        code: "INVALID_CONFIG",
        message: expect.stringContaining(`in the ${field} field`),
      });
    await expect(
      h.client.crons.create({ graphId: "linear", schedule: "@daily", input: {} }),
    ).rejects.toMatchObject({
      message: expect.stringContaining('"0 0 * * *"'),
    });
    expect((await h.client.crons.list()).length).toBe(before);
    // A step within its field is taken.
    const taken = await h.client.crons.create({ graphId: "linear", schedule: "*/59 */23 * * *", input: {} });
    await h.client.crons.delete(taken.id);
  });

  it("refuses a hashed (H) field: cron-parser draws it afresh for every tick", async () => {
    const before = (await h.client.crons.list()).length;
    // "H H * * *" (once a day, at a time of its own) ticked 25 times in 10 days.
    await expect(
      h.client.crons.create({ graphId: "linear", schedule: "H H * * *", input: {} }),
    ).rejects.toMatchObject({ code: "INVALID_CONFIG", message: expect.stringContaining("H") });
    expect((await h.client.crons.list()).length).toBe(before);
  });

  it("deletes a cron named by its id in upper case, its schedule in Redis too", async () => {
    const cron = await h.client.crons.create({ graphId: "linear", schedule: "0 0 1 1 *", input: {} });
    expect(await schedulers.getJobScheduler(cronSchedulerId(cron.id))).toBeDefined();
    expect(await h.client.crons.delete(cron.id.toUpperCase())).toBe(true);
    expect(await schedulers.getJobScheduler(cronSchedulerId(cron.id))).toBeUndefined();
  });

  it("gives every run a cron starts the cron's config: its context reaches the nodes", async () => {
    const cron = await h.client.crons.create({
      graphId: "contextual",
      schedule: "* * * * * *",
      input: {},
      config: { context: { userId: "nightly-job" } },
    });
    expect((await firstRunValues(cron.id, "scheduler-context")).seen).toEqual(["start for nightly-job"]);
    await expect(
      h.client.crons.create({ graphId: "linear", schedule: "* * * * *", config: { recursionLimit: -1 } }),
    ).rejects.toMatchObject({ code: "INVALID_INPUT", message: expect.stringContaining("recursionLimit") });
  });

  it("starts the runs of a cron stored with a config key runs no longer take (before keys were checked)", async () => {
    const cron = await h.client.crons.create({
      graphId: "contextual",
      schedule: "* * * * * *",
      input: {},
      config: { context: { userId: "older-cron" } },
    });
    // As a client before this release stored it: a LangGraph key the run never used.
    await h.pool.query(
      `UPDATE "${h.schema}".crons SET config = config || '{"tags": ["nightly"]}' WHERE id = $1`,
      [cron.id],
    );
    expect((await firstRunValues(cron.id, "scheduler-older-cron")).seen).toEqual(["start for older-cron"]);
  });

  it("a tick that fell due while no scheduler ran starts its run when a scheduler starts", async () => {
    const cron = await h.client.crons.create({ graphId: "linear", schedule: "*/2 * * * * *", input: {} });
    const due = (await schedulers.getJobScheduler(cronSchedulerId(cron.id)))?.next as number;
    await new Promise((resolve) => setTimeout(resolve, Math.max(0, due - Date.now()) + 300));
    const startedAt = Date.now();
    const stop = await h.startScheduler({ id: "scheduler-late" });
    try {
      while ((await cronThreads(cron.id)).length === 0)
        await new Promise((resolve) => setTimeout(resolve, 50));
      expect(await cronThreads(cron.id)).toContain(`cron-${cron.id}-${due}`);
      expect(due).toBeLessThan(startedAt);
    } finally {
      await h.client.crons.delete(cron.id);
      await stop();
    }
  });

  it("a schedule whose cron is gone from Postgres removes itself at its next tick", async () => {
    const stop = await h.startScheduler({ id: "scheduler-sweeper" });
    try {
      const cron = await h.client.crons.create({ graphId: "linear", schedule: "* * * * * *", input: {} });
      // What a restore racing crons.delete leaves: the schedule in Redis, no row in Postgres.
      await h.pool.query(`DELETE FROM "${h.schema}".crons WHERE id = $1`, [cron.id]);
      const deadline = Date.now() + 5_000;
      while (await schedulers.getJobScheduler(cronSchedulerId(cron.id))) {
        if (Date.now() > deadline) throw new Error("the orphaned schedule is still there after 5 s");
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      expect(await cronThreads(cron.id)).toEqual([]);
    } finally {
      await stop();
    }
  });

  it("sets its schedules again from Postgres when Redis loses every key while a scheduler runs", async () => {
    const stop = await h.startScheduler({ id: "scheduler-flushed" });
    const cron = await h.client.crons.create({ graphId: "linear", schedule: "* * * * * *", input: {} });
    try {
      while ((await cronThreads(cron.id)).length === 0)
        await new Promise((resolve) => setTimeout(resolve, 50));
      await deleteRedisPrefix(h.redisUrl, h.prefix); // what FLUSHALL does to this deployment
      const lostAt = Date.now();
      const ticksSince = async () =>
        (await cronThreads(cron.id)).filter(
          (t) => Number(t.slice(`cron-${cron.id}-`.length)) > lostAt + 1_000,
        );
      const deadline = Date.now() + 8_000;
      while ((await ticksSince()).length === 0) {
        if (Date.now() > deadline) throw new Error("no tick 8 s after Redis lost the cron's schedule");
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      expect(await schedulers.getJobScheduler("reconcile")).toBeDefined();
    } finally {
      await h.client.crons.delete(cron.id);
      await stop();
    }
  });

  it("schedules a cron Postgres has and Redis never had, while a scheduler runs", async () => {
    const stop = await h.startScheduler({ id: "scheduler-unscheduled" });
    // What a crons.create leaves whose process died between its insert and its upsert.
    const { rows } = await h.pool.query(
      `INSERT INTO "${h.schema}".crons (id, graph_id, schedule, input) VALUES (gen_random_uuid(), 'linear', '0 0 1 1 *', '{}')
       RETURNING id`,
    );
    const id = rows[0].id as string;
    try {
      const deadline = Date.now() + 5_000;
      while (!(await schedulers.getJobScheduler(cronSchedulerId(id)))) {
        if (Date.now() > deadline) throw new Error("the cron has no schedule 5 s on");
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    } finally {
      await h.client.crons.delete(id);
      await stop();
    }
  });

  it("starts, and schedules the other crons, when BullMQ refuses one cron's stored schedule", async () => {
    // As a release that checked less, or a Node whose time zone data lacks the zone, leaves it.
    const insert = async (schedule: string) =>
      (
        await h.pool.query(
          `INSERT INTO "${h.schema}".crons (id, graph_id, schedule, input, created_at)
           VALUES (gen_random_uuid(), 'linear', $1, '{}', now() - interval '1 day') RETURNING id`,
          [schedule],
        )
      ).rows[0].id as string;
    const refused = await insert("61 * * * *");
    const fine = await insert("0 0 1 1 *");
    try {
      const stop = await h.startScheduler({ id: "scheduler-refused" });
      await stop();
      expect(await schedulers.getJobScheduler(cronSchedulerId(fine))).toBeDefined();
    } finally {
      await h.client.crons.delete(refused);
      await h.client.crons.delete(fine);
    }
  });

  it("starts no run after crons.delete returned, even for a tick it raced", async () => {
    const { threadId, runId } = await h.client.runs.start({ graphId: "linear", input: {} });
    await h.client.runs.wait(runId);
    const cron = await h.client.crons.create({
      graphId: "linear",
      schedule: "* * * * * *",
      input: {},
      threadId,
    });
    const cronRuns = async () =>
      (
        await h.pool.query(
          `SELECT count(*)::int AS n FROM "${h.schema}".runs WHERE idempotency_key LIKE $1`,
          [`cron-${cron.id}-%`],
        )
      ).rows[0].n as number;
    // The thread's row lock holds a tick between reading its cron and recording its run.
    const lock = await h.pool.connect();
    await lock.query("BEGIN");
    await lock.query(`SELECT 1 FROM "${h.schema}".threads WHERE id = $1 FOR UPDATE`, [threadId]);
    const stop = await h.startScheduler({ id: "scheduler-deleted" });
    try {
      const waiting = async () =>
        (
          await h.pool.query(
            `SELECT count(*)::int AS n FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND query LIKE $1`,
            [`%"${h.schema}"."start_run"%`],
          )
        ).rows[0].n as number;
      while ((await waiting()) === 0) await new Promise((resolve) => setTimeout(resolve, 50));
      const deleted = h.client.crons
        .delete(cron.id)
        .then(async (found) => ({ found, runs: await cronRuns() }));
      await new Promise((resolve) => setTimeout(resolve, 300));
      await lock.query("COMMIT");
      const { found, runs } = await deleted;
      expect(found).toBe(true);
      await new Promise((resolve) => setTimeout(resolve, 1_500));
      expect(await cronRuns()).toBe(runs);
    } finally {
      await lock.query("ROLLBACK").catch(() => {});
      lock.release();
      await h.client.crons.delete(cron.id);
      await stop();
    }
  });

  /** The first tick BullMQ schedules for a cron created at `now`, as an ISO string. */
  async function firstTick(now: number, schedule: string, timezone: string): Promise<string> {
    vi.useFakeTimers({ toFake: ["Date"], now });
    let id: string | undefined;
    try {
      id = (await h.client.crons.create({ graphId: "linear", schedule, timezone, input: {} })).id;
      const next = (await schedulers.getJobScheduler(cronSchedulerId(id)))?.next as number;
      return new Date(next).toISOString();
    } finally {
      vi.useRealTimers();
      if (id) await h.client.crons.delete(id);
    }
  }

  it("ticks on a day whose midnight a DST change skips, at the first minute the day has", async () => {
    // Santiago moves from 24:00 on 6 September 2025 to 01:00 on the 7th: the 7th has no midnight.
    // Created at 20:00 on the 6th there; the tick is 01:00 on the 7th.
    const created = Date.parse("2025-09-07T00:00:00Z");
    expect(await firstTick(created, "0 0 * * *", "America/Santiago")).toBe("2025-09-07T04:00:00.000Z");
  });

  it("schedules a tick where cron-parser finds none: across Lord Howe's half-hour DST change", async () => {
    // Lord Howe goes back from 02:00 to 01:30 on 6 April 2025; created at midnight there, the
    // tick is 06:00 there.
    const created = Date.parse("2025-04-05T13:00:00Z");
    expect(await firstTick(created, "0 */6 * * *", "Australia/Lord_Howe")).toBe("2025-04-05T19:30:00.000Z");
  });

  it("after the tick before such a day, schedules the next at that day's first minute", async () => {
    const created = Date.parse("2025-09-06T03:59:59Z"); // 23:59:59 on the 5th in Santiago
    vi.useFakeTimers({ toFake: ["Date"], now: created });
    let id: string | undefined;
    let stop: (() => Promise<void>) | undefined;
    try {
      const cron = await h.client.crons.create({
        graphId: "linear",
        schedule: "0 0 * * *",
        timezone: "America/Santiago",
        input: {},
      });
      id = cron.id;
      vi.setSystemTime(created + 1_500); // its tick, midnight on the 6th, is due
      stop = await h.startScheduler({ id: "scheduler-dst" });
      const midnight6th = Date.parse("2025-09-06T04:00:00Z");
      while (!(await cronThreads(cron.id)).includes(`cron-${cron.id}-${midnight6th}`))
        await new Promise((resolve) => setTimeout(resolve, 50));
      const nextTick = async () => (await schedulers.getJobScheduler(cronSchedulerId(cron.id)))?.next;
      while ((await nextTick()) === midnight6th) await new Promise((resolve) => setTimeout(resolve, 50));
      const next = await nextTick();
      expect(new Date(next as number).toISOString()).toBe("2025-09-07T04:00:00.000Z");
    } finally {
      await stop?.();
      vi.useRealTimers();
      if (id) await h.client.crons.delete(id);
    }
  });
});
