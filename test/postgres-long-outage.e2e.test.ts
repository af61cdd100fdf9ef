// Postgres stays away for longer than a job's retries would last (a managed database's long
// failover, a partition between the services and the database): two worker processes and a
// scheduler reach it through a TCP proxy the test cuts for 20 s, while producers (who still reach
// it) resume parked threads and start runs, and a cron ticks every second. Jobs spend no attempts
// on the outage: they wait in the queue, untouched, and carry on when Postgres is back, however
// long it was away. The ticks that fell due meanwhile start one run late rather than never, and each
// process says the outage once, not once per job.
import type { ChildProcess } from "node:child_process";
import { createScheduler } from "@layover/scheduler";
import { tcpProxy } from "@layover/testing";
import pino from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  checkpointCounts,
  checkpointForks,
  createHarness,
  type Harness,
  runStatuses,
} from "./support/harness.ts";
import { until } from "./support/until.ts";

const OUTAGE_MS = 20_000;
const CHAINS = 16;
const LATE_CHAINS = 8;
const APPROVALS = 6;

let h: Harness;
let proxy: Awaited<ReturnType<typeof tcpProxy>>;
let workers: ChildProcess[];
let stopScheduler: (() => Promise<void>) | undefined;
const logs: string[] = [];

beforeAll(async () => {
  h = await createHarness("long_db_outage");
  proxy = await tcpProxy(h.databaseUrl);
  workers = await Promise.all(["l1", "l2"].map((id) => h.spawnWorker(id, { DATABASE_URL: proxy.url })));
  for (const worker of workers) worker.stdout?.on("data", (chunk: Buffer) => logs.push(chunk.toString()));
  // A scheduler on its production schedule, cut off with the workers.
  const logger = pino({ level: "info" }, { write: (line: string) => void logs.push(line) });
  const scheduler = createScheduler({ ...h.deployment, databaseUrl: proxy.url, schedulerId: "s1", logger });
  await scheduler.start();
  stopScheduler = () => scheduler.close();
}, 60_000);
afterAll(async () => {
  if (process.env.OUTAGE_LOG) (await import("node:fs")).writeFileSync(process.env.OUTAGE_LOG, logs.join(""));
  await stopScheduler?.();
  await h?.close();
  await proxy?.close();
});

/** The log lines (pino JSON) of the workers and the scheduler whose message holds `text`. */
function logLines(text: string): Array<{ level: number; workerId?: string; schedulerId?: string }> {
  return logs
    .join("")
    .split("\n")
    .filter((line) => line.includes(text))
    .map((line) => JSON.parse(line));
}

/** The cron's runs by tick (its threads are `cron-<id>-<tick ms>`). */
async function cronTicks(cronId: string): Promise<Array<{ tick: number; status: string }>> {
  const { rows } = await h.pool.query<{ thread_id: string; status: string }>(
    `SELECT thread_id, status FROM "${h.schema}".runs WHERE thread_id LIKE $1 ORDER BY thread_id`,
    [`cron-${cronId}-%`],
  );
  return rows.map((r) => ({ tick: Number(r.thread_id.slice(`cron-${cronId}-`.length)), status: r.status }));
}

function startChains(n: number) {
  return Promise.all(
    Array.from({ length: n }, () => h.client.runs.start({ graphId: "slow-chain", input: { delayMs: 100 } })),
  );
}

describe("Postgres away for longer than a job's retries", () => {
  it("keeps every job's attempts, carries all runs and the missed cron tick on after, and logs the outage once", async () => {
    const approvals = await Promise.all(
      Array.from({ length: APPROVALS }, (_, i) =>
        h.client.runs.start({ graphId: "approval", input: { item: `a${i}` } }),
      ),
    );
    for (const s of approvals)
      expect((await h.client.runs.wait(s.runId, { timeoutMs: 30_000 })).status).toBe("interrupted");
    const cron = await h.client.crons.create({ graphId: "linear", schedule: "* * * * * *", input: {} });
    const chains = await startChains(CHAINS);
    await until(async () => ((await runStatuses(h)).running ?? 0) >= 2, 20_000);

    proxy.cut();
    const cutAt = Date.now();
    // Producers still reach Postgres: what they record meanwhile waits in BullMQ for the workers.
    const resumes = await Promise.all(approvals.map((s) => h.client.threads.resume(s.threadId, "yes")));
    const late = await startChains(LATE_CHAINS);
    await new Promise((resolve) => setTimeout(resolve, OUTAGE_MS - (Date.now() - cutAt)));
    const held = await h.queue.getJobs(["waiting", "delayed", "failed"]);
    proxy.restore();
    const restoredAt = Date.now();

    // Every step job the outage met waits as it was: none failed, none spent an attempt.
    expect(held.length).toBeGreaterThanOrEqual(LATE_CHAINS + APPROVALS);
    expect(held.map((job) => job.attemptsMade).filter((n) => n > 0)).toEqual([]);
    expect(await h.queue.getJobCountByTypes("failed")).toBe(0);

    const cronRun = `thread_id LIKE 'cron-%'`;
    await until(async () => {
      const by = await runStatuses(h, `NOT ${cronRun}`);
      return (by.pending ?? 0) === 0 && (by.running ?? 0) === 0;
    }, 60_000);
    console.log(`Postgres back after ${OUTAGE_MS} ms: every run settled ${Date.now() - restoredAt} ms later`);
    expect(await runStatuses(h, `NOT ${cronRun}`)).toEqual({
      interrupted: APPROVALS,
      success: APPROVALS + CHAINS + LATE_CHAINS,
    });
    for (const [i, r] of resumes.entries())
      expect(await h.client.runs.wait(r.runId, { timeoutMs: 5_000 })).toMatchObject({
        status: "success",
        values: { outcome: `approved a${i}`, acted: true },
      });
    const chainThreads = [...chains, ...late].map((s) => s.threadId);
    for (const threadId of chainThreads)
      expect((await h.client.threads.get(threadId)).values).toMatchObject({ count: 5 });
    // Each superstep committed once: the input and the five nodes.
    expect([...new Set((await checkpointCounts(h, chainThreads)).values())]).toEqual([6]);
    expect(await checkpointForks(h)).toEqual([]);

    // The ticks that fell due during the outage started at most one run between them once
    // Postgres was back (as while no scheduler runs: not every one missed): the first tick after
    // the cut, put back, or the one BullMQ scheduled as it took it, if the scheduler took one of
    // them first; none if it first took a tick due after the restore, which stands in for them.
    // Either way the cron ticks on.
    await until(async () => (await cronTicks(cron.id)).some((t) => t.tick > restoredAt), 10_000);
    await h.client.crons.delete(cron.id);
    const outageTicks = (await cronTicks(cron.id)).filter((t) => t.tick > cutAt && t.tick < restoredAt);
    expect(outageTicks.length).toBeLessThanOrEqual(1);
    for (const { tick } of outageTicks) expect(tick).toBeLessThanOrEqual(cutAt + 2_000);

    // Each process said the outage began (warn) and ended (info) once; no job logged a failure.
    // A process says it ended at its own next check (every 2 s at most): one whose jobs the
    // others took meanwhile may say so after every run settled, so it is waited for.
    const processes = [
      ["workerId", "l1"],
      ["workerId", "l2"],
      ["schedulerId", "s1"],
    ] as const;
    const ended = (key: string, id: string) =>
      logLines("Postgres answers again").filter((l) => (l as Record<string, unknown>)[key] === id);
    await until(
      () => processes.every(([key, id]) => ended(key, id).length > 0),
      10_000,
      "an outage's end not logged",
    );
    for (const [key, id] of processes) {
      const began = logLines("Postgres unreachable").filter((l) => l[key] === id);
      expect(began.map((l) => l.level)).toEqual([40]);
      expect(ended(key, id).map((l) => l.level)).toEqual([30]);
    }
    expect(logLines("job failed")).toEqual([]);
    for (const worker of workers) expect(worker.exitCode).toBeNull();
  }, 120_000);
});
