// crons.create and crons.delete from a producer whose Redis does not answer: Postgres holds the
// cron, so the call answers in bounded time, and the scheduler sets or drops the schedule.
import { createClient, cronSchedulerId, type LayoverClient, SCHEDULER_QUEUE } from "@layover/runtime";
import { tcpProxy } from "@layover/testing";
import { Queue } from "bullmq";
import pino from "pino";
import { afterAll, beforeAll, expect, it } from "vitest";
import { createHarness, type Harness } from "./support/harness.ts";

let h: Harness;
let schedulers: Queue;
let proxy: Awaited<ReturnType<typeof tcpProxy>>;
let cut: LayoverClient;

beforeAll(async () => {
  h = await createHarness("crons-redis-down");
  await h.startWorker();
  schedulers = new Queue(SCHEDULER_QUEUE, { connection: h.queue.opts.connection, prefix: h.prefix });
  proxy = await tcpProxy(h.redisUrl);
  cut = createClient({ ...h.deployment, redisUrl: proxy.url, logger: pino({ level: "silent" }) });
  proxy.cut();
}, 60_000);
afterAll(async () => {
  await cut?.close();
  await proxy?.close();
  await schedulers?.close();
  await h?.close();
});

const cronThreadCount = async (cronId: string) =>
  (
    await h.pool.query(`SELECT count(*)::int AS n FROM "${h.schema}".runs WHERE thread_id LIKE $1`, [
      `cron-${cronId}-%`,
    ])
  ).rows[0].n as number;

it("crons.create records the cron and returns; a scheduler sets its schedule and it ticks", async () => {
  const asked = Date.now();
  const cron = await cut.crons.create({ graphId: "linear", schedule: "* * * * * *", input: {} });
  expect(Date.now() - asked).toBeLessThan(10_000);
  expect((await h.client.crons.list()).map((c) => c.id)).toContain(cron.id);
  expect(await schedulers.getJobScheduler(cronSchedulerId(cron.id))).toBeUndefined();
  const stop = await h.startScheduler();
  try {
    while ((await cronThreadCount(cron.id)) === 0) await new Promise((resolve) => setTimeout(resolve, 100));
  } finally {
    await h.client.crons.delete(cron.id);
    await stop();
  }
}, 30_000);

it("crons.delete deletes the cron and returns; its schedule drops itself at its next tick", async () => {
  const stop = await h.startScheduler();
  try {
    const cron = await h.client.crons.create({ graphId: "linear", schedule: "* * * * * *", input: {} });
    const asked = Date.now();
    expect(await cut.crons.delete(cron.id)).toBe(true);
    expect(Date.now() - asked).toBeLessThan(10_000);
    expect(await h.client.crons.list()).toEqual([]);
    const deadline = Date.now() + 5_000;
    while (await schedulers.getJobScheduler(cronSchedulerId(cron.id))) {
      if (Date.now() > deadline) throw new Error("the deleted cron's schedule is still there after 5 s");
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    const ran = await cronThreadCount(cron.id);
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    expect(await cronThreadCount(cron.id)).toBe(ran);
  } finally {
    await stop();
  }
}, 30_000);
