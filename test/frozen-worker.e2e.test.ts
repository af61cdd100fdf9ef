// A worker process frozen rather than killed (SIGSTOP: a long GC pause, a VM its host froze, a
// laptop lid) for longer than its job's lock, then thawed (SIGCONT) once another worker has taken
// its job over and moved the run on. Postgres keeps every superstep committed once; the thawed
// worker's late commit is refused, or finds its work already known, and undoes nothing: no
// interrupt rewritten, no thread flipped back, no job left behind, no error logged.
import { readFileSync } from "node:fs";
import { runEventsChannel } from "@layover/runtime";
import { Redis } from "ioredis";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import {
  checkpointCounts,
  checkpointForks,
  createHarness,
  type Harness,
  jobsInRedis,
} from "./support/harness.ts";
import { type Service, spawnProxiedWorker } from "./support/proxied-services.ts";
import { until } from "./support/until.ts";

let h: Harness;
let services: Service[] = [];
let subscriber: Redis;
/** Every run event published, as workers announce them. */
const announced: Array<{ runId: string; status: string; result?: unknown }> = [];

beforeAll(async () => {
  h = await createHarness("frozen_worker");
  subscriber = new Redis(h.redisUrl);
  subscriber.on("message", (_channel: string, message: string) => announced.push(JSON.parse(message)));
  await subscriber.subscribe(runEventsChannel(h.prefix));
}, 60_000);
afterEach(async () => {
  for (const service of services) service.child.kill("SIGCONT");
  await Promise.all(services.map((service) => service.stop()));
  services = [];
});
afterAll(async () => {
  subscriber?.disconnect();
  await h?.close();
});

/** A worker process (locks of 2 s, stalled jobs looked for every second). */
async function worker(id: string): Promise<Service> {
  const service = await spawnProxiedWorker(h.deployment, id);
  services.push(service);
  return service;
}

/** Whether `service`'s process is stopped (SIGSTOP), as Linux's /proc says. */
function frozen(service: Service): boolean {
  const stat = readFileSync(`/proc/${service.child.pid}/stat`, "utf8");
  return stat.slice(stat.lastIndexOf(")") + 2)[0] === "T";
}

async function runRow(runId: string) {
  const { rows } = await h.pool.query(
    `SELECT status, started_by, parked_by, finished_by, last_worker, released_at FROM "${h.schema}".runs WHERE id = $1`,
    [runId],
  );
  return rows[0];
}

/**
 * What the thawed worker says of its late work: its lock renewal failed (BullMQ's lock manager,
 * overdue when it thaws), or it stood still past half its lock and read the lock before
 * committing (lock-fence.ts), and found the job another worker's; before the fence, Postgres
 * refused the commit as a lost compare-and-set, which it still would.
 */
const LOCK_LOST = "job lost its lock; left to the worker that holds it";

/** BullMQ's refusal to move on a job the thawed worker no longer holds, as logWorkerErrors says it. */
const NOT_HELD = /^job no longer held by this process/;

/**
 * Thaws `zombie` and waits until it has logged `line` (what it does with its late work) and then
 * its job's end in BullMQ, refused as no longer held: what it logs of that job is all said then.
 */
async function thaw(zombie: Service, line: string) {
  zombie.child.kill("SIGCONT");
  await until(
    () => zombie.lines.some((l) => l.msg === line),
    10_000,
    `the thawed worker never logged "${line}"`,
  );
  await until(
    () => zombie.lines.some((l) => NOT_HELD.test(String(l.msg)) || (l.level as number) >= 50),
    10_000,
    "the thawed worker never said how its job ended in BullMQ",
  );
}

/** What a thawed worker and BullMQ must show once the run moved on without it. */
async function expectNothingLeft(zombie: Service, threadId: string) {
  expect(await checkpointForks(h, [threadId])).toEqual([]);
  expect(await jobsInRedis(h)).toBe(0);
  expect(await h.queue.getJobs(["failed"])).toEqual([]);
  const errors = zombie.lines.filter((l) => (l.level as number) >= 50).map((l) => l.err ?? l.msg);
  expect(errors).toEqual([]);
  expect(zombie.lines.map((l) => l.msg)).toContainEqual(
    expect.stringMatching(/^lost the lock of running jobs/),
  );
}

/** What `service`'s `work` nodes said of their calls (fixtures/freezing.ts), in order. */
function calls(service: Service) {
  return service.lines
    .filter((l) => l.msg === "work's call ended")
    .map(({ how, reason, cause }) => ({ how, ...(reason === undefined ? {} : { reason, cause }) }));
}

describe("a worker frozen past its job's lock", () => {
  it("mid-call: the thawed worker's node sees its signal abort and makes no second booking", async () => {
    const zombie = await worker("z");
    const start = await h.client.runs.start({
      graphId: "freezing",
      input: { freezeOn: "z", delayMs: 5_000 },
    });
    await until(() => frozen(zombie), 10_000, "z never froze in its node");
    const taker = await worker("w");
    expect((await h.client.runs.wait(start.runId, { timeoutMs: 20_000 })).status).toBe("success");
    expect(calls(taker)).toEqual([{ how: "booked" }]);

    // z's lock renewal, overdue when it thaws, fails at once: its node's call (5 s from the thaw)
    // is aborted long before it would book, as a cancel aborts it.
    zombie.child.kill("SIGCONT");
    await until(() => calls(zombie).length > 0, 10_000, "z's call never ended");
    expect(calls(zombie)).toEqual([{ how: "aborted", reason: "AbortError", cause: "JobLockLostError" }]);
    await thaw(zombie, LOCK_LOST);
    expect((await h.client.threads.get(start.threadId)).values).toMatchObject({ trail: ["work by w"] });
    expect(await runRow(start.runId)).toMatchObject({ status: "success", finished_by: "w" });
    await expectNothingLeft(zombie, start.threadId);
  }, 40_000);

  it("mid-node: another worker parks and finishes the run, and the thawed one's late commit is refused", async () => {
    const zombie = await worker("z");
    const start = await h.client.runs.start({ graphId: "freezing", input: { freezeOn: "z", ask: true } });
    await until(() => frozen(zombie), 10_000, "z never froze in its node");
    await worker("w");
    expect((await h.client.runs.wait(start.runId, { timeoutMs: 20_000 })).status).toBe("interrupted");
    const resume = await h.client.threads.resume(start.threadId, "yes");
    expect((await h.client.runs.wait(resume.runId)).status).toBe("success");

    await thaw(zombie, LOCK_LOST);
    const thread = await h.client.threads.get(start.threadId);
    expect(thread.status).toBe("idle");
    expect(thread.values).toMatchObject({ trail: ["work by w"], answer: "yes" });
    expect(await runRow(start.runId)).toMatchObject({
      status: "interrupted",
      started_by: "w",
      parked_by: "w",
    });
    expect(await runRow(resume.runId)).toMatchObject({ status: "success", finished_by: "w" });
    await expectNothingLeft(zombie, start.threadId);
  }, 30_000);

  it("just after it parked: the run resumed and finished meanwhile stays finished", async () => {
    const zombie = await worker("z");
    const start = await h.client.runs.start({ graphId: "freezing", input: { delayMs: 300, ask: true } });
    // The park waits for the threads table's lock: z is frozen with it sent, and it commits then.
    // A table lock, not a row lock (FOR UPDATE), which would take a transaction id: the interrupt
    // feeds of tests running meanwhile would hold their rows back while it is held. SHARE mode
    // holds back updates of threads (the park's release_thread) and not the row lock each of
    // z's commits takes on its thread (the fence: holdsThreadGuard), so z's supersteps before
    // the park still commit.
    const lock = await h.pool.connect();
    try {
      await lock.query("BEGIN");
      await lock.query(`LOCK TABLE "${h.schema}".threads IN SHARE MODE`);
      const { rows } = await lock.query("SELECT pg_backend_pid() AS pid");
      const blocked = `SELECT count(*)::int AS n FROM pg_stat_activity WHERE $1 = ANY(pg_blocking_pids(pid))`;
      await until(async () => (await h.pool.query(blocked, [rows[0].pid])).rows[0].n > 0, 10_000, "no park");
      zombie.child.kill("SIGSTOP");
      await until(() => frozen(zombie), 5_000, "z never froze");
    } finally {
      await lock.query("COMMIT");
      lock.release();
    }
    await until(
      async () => (await runRow(start.runId)).status === "interrupted",
      5_000,
      "the park never committed",
    );
    const resume = await h.client.threads.resume(start.threadId, "yes");
    await worker("w");
    expect((await h.client.runs.wait(resume.runId)).status).toBe("success");
    // w's stalled check takes z's job over: the parked run is announced again, for its waiters.
    await until(() => announced.some((e) => e.runId === start.runId), 10_000, "z's job never taken over");

    const beforeThaw = announced.length;
    await thaw(zombie, "run interrupted");
    // z announces its park late, long after its commit: with the status alone, so a wait hearing
    // it reads Postgres, and is not told of a question that was answered meanwhile.
    const late = () => announced.slice(beforeThaw).filter((e) => e.runId === start.runId);
    await until(() => late().length > 0, 5_000, "z never announced its park");
    expect(late()).toEqual([
      { runId: start.runId, threadId: start.threadId, status: "interrupted", graphId: "freezing" },
    ]);
    expect((await h.client.threads.get(start.threadId)).status).toBe("idle");
    expect(await runRow(start.runId)).toMatchObject({ status: "interrupted", parked_by: "z" });
    expect(await runRow(resume.runId)).toMatchObject({ status: "success", finished_by: "w" });
    const { rows: interrupts } = await h.pool.query(
      `SELECT status, resume_value FROM "${h.schema}".interrupts WHERE thread_id = $1`,
      [start.threadId],
    );
    expect(interrupts).toEqual([{ status: "resolved", resume_value: "yes" }]);
    expect(announced.filter((e) => e.runId === resume.runId)).toEqual([
      expect.objectContaining({ status: "success" }),
    ]);
    await expectNothingLeft(zombie, start.threadId);
  }, 30_000);

  it("cancelled while frozen: the run queued behind it runs on another worker", async () => {
    const zombie = await worker("z");
    const first = await h.client.runs.start({ graphId: "freezing", input: { freezeOn: "z" } });
    const queued = await h.client.runs.start({
      graphId: "freezing",
      threadId: first.threadId,
      input: { delayMs: 1_000 },
      multitaskStrategy: "enqueue",
    });
    await until(() => frozen(zombie), 10_000, "z never froze in its node");
    expect(await h.client.runs.cancel(first.runId)).toEqual({ status: "cancelled" });
    await worker("w");
    await until(
      async () => (await runRow(queued.runId)).status === "running",
      20_000,
      "the queued run never ran",
    );
    // Its input is stored (in the background, as its node waits): z's commit from the empty head loses.
    const stored = async () => ((await checkpointCounts(h, [first.threadId])).get(first.threadId) ?? 0) > 0;
    await until(stored, 5_000, "the queued run's input was never stored");

    await thaw(zombie, LOCK_LOST);
    expect((await h.client.runs.wait(queued.runId)).status).toBe("success");
    expect((await h.client.threads.get(first.threadId)).values).toMatchObject({ trail: ["work by w"] });
    expect(await runRow(first.runId)).toMatchObject({ status: "cancelled", released_at: expect.any(Date) });
    await expectNothingLeft(zombie, first.threadId);
  }, 30_000);
});
