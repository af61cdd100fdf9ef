// Jobs that fail, against real Postgres, Redis and BullMQ: reconciliation of runs whose job failed
// every attempt (the failing side is a real BullMQ worker whose processor fails the way a worker
// does when Postgres stays unreachable past a job's retries) or never reached a Redis that was
// down, and jobs a worker cannot serve.
import { createClient, STEP_QUEUE, stepJobId } from "@layover/runtime";
import { createWorker } from "@layover/worker";
import { type Job, UnrecoverableError, Worker } from "bullmq";
import { Redis } from "ioredis";
import pino from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createHarness, type Harness, parkedApproval } from "./support/harness.ts";

let h: Harness;

beforeAll(async () => {
  h = await createHarness("reconcile");
  // A worker registers the graphs for the producer, then leaves: the test decides who runs jobs.
  await (await h.startWorker({ id: "registrar" }))();
}, 60_000);
afterAll(async () => {
  await h?.close();
});

/** Takes the next step job and fails it for good; resolves with the failed job. */
async function failNextJob(): Promise<Job> {
  const connection = new Redis(h.redisUrl, { maxRetriesPerRequest: null });
  const failing = new Worker(
    STEP_QUEUE,
    async () => {
      throw new UnrecoverableError("connect ECONNREFUSED 127.0.0.1:5432");
    },
    { connection, prefix: h.prefix, autorun: false },
  );
  const failed = new Promise<Job>((resolve) => failing.on("failed", (job) => job && resolve(job)));
  void failing.run();
  const job = await failed;
  await failing.close();
  await connection.quit();
  return job;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe("reconcile", () => {
  it("enqueues a failed job again only after its backoff, counting each time; the run then finishes", async () => {
    const { runId } = await h.client.runs.start({ graphId: "approval", input: { item: "stuck" } });
    const first = await failNextJob();
    expect(first.data.runId).toBe(runId);

    // Failed a moment ago: not yet.
    expect(await h.client.reconcile({ minAgeMs: 0, failedBackoffMs: 60_000 })).toEqual([]);
    expect(await (await h.queue.getJob(first.id as string))?.getState()).toBe("failed");

    await sleep(250);
    const again = await h.client.reconcile({ minAgeMs: 0, failedBackoffMs: 200 });
    expect(again).toEqual([
      expect.objectContaining({ runId, requeues: 1, failedReason: "connect ECONNREFUSED 127.0.0.1:5432" }),
    ]);

    const second = await failNextJob();
    expect(second.data).toMatchObject({ runId, requeues: 1 });
    await sleep(250);
    expect(await h.client.reconcile({ minAgeMs: 0, failedBackoffMs: 100 })).toEqual([
      expect.objectContaining({ runId, requeues: 2 }),
    ]);

    const stop = await h.startWorker({ id: "recovered" });
    const result = await h.client.runs.wait(runId, { timeoutMs: 20_000 });
    expect(result.status).toBe("interrupted");
    await stop();
  });

  it("finds a lost job behind a thousand runs with jobs that share one timestamp to the microsecond", async () => {
    // A sweep batch records up to 1,000 resume runs in one transaction: one updated_at for all.
    const tied = "2026-01-01 00:00:00.000123+00";
    const { rows } = await h.pool.query<{ thread_id: string; run_id: string }>(
      `WITH made AS (
         SELECT 'backlog-' || i AS thread_id, gen_random_uuid() AS run_id FROM generate_series(1, 1000) i),
       threads AS (
         INSERT INTO "${h.schema}".threads (id, graph_id, status, current_run_id)
         SELECT thread_id, 'approval', 'busy', run_id FROM made)
       INSERT INTO "${h.schema}".runs (id, thread_id, graph_id, kind, input, status, updated_at)
       SELECT run_id, thread_id, 'approval', 'start', '{"input":{"item":"x"}}', 'pending', $1 FROM made
       RETURNING thread_id, id AS run_id`,
      [tied],
    );
    await h.queue.addBulk(
      rows.map((row) => {
        const data = { threadId: row.thread_id, runId: row.run_id, checkpointId: null };
        return { name: "step", data, opts: { jobId: stepJobId(data) } };
      }),
    );
    const lost = await h.client.runs.start({ graphId: "approval", input: { item: "behind the backlog" } });
    await (await h.queue.getJob(stepJobId({ ...lost, checkpointId: null })))?.remove();
    await h.pool.query(
      `UPDATE "${h.schema}".runs SET updated_at = $1::timestamptz + interval '1 second' WHERE id = $2`,
      [tied, lost.runId],
    );
    try {
      const requeued = await h.client.reconcile({ minAgeMs: 0 });
      expect(requeued.map((step) => step.runId)).toEqual([lost.runId]);
      expect(await h.queue.getJobState(stepJobId({ ...lost, checkpointId: null }))).toBe("waiting");
    } finally {
      // The backlog has no checkpoints: finished, its jobs are stale to any worker.
      await h.pool.query(`UPDATE "${h.schema}".runs SET status = 'success' WHERE thread_id LIKE 'backlog-%'`);
      await h.pool.query(
        `UPDATE "${h.schema}".threads SET status = 'idle', current_run_id = NULL WHERE id LIKE 'backlog-%'`,
      );
    }
  }, 30_000);

  it("with Redis down, start, resume and cancel still return once recorded, and reconcile enqueues them later", async () => {
    const stop = await h.startWorker({ id: "worker-redis-down" });
    const { threadId } = await parkedApproval(h, "redis down");
    // A producer whose Redis is unreachable (nothing listens on that port).
    const offline = createClient({
      databaseUrl: h.databaseUrl,
      redisUrl: "redis://127.0.0.1:1",
      schema: h.schema,
      prefix: h.prefix,
      logger: pino({ level: "silent" }),
    });
    try {
      const started = await offline.runs.start({ graphId: "approval", input: { item: "offline start" } });
      const { runId: resumeRun } = await offline.threads.resume(threadId, "yes");
      const doomed = await offline.runs.start({ graphId: "approval", input: { item: "offline cancel" } });
      expect(await offline.runs.cancel(doomed.runId)).toEqual({ status: "cancelled" });
      // Recorded in Postgres, not lost: reconciliation (a producer with Redis) enqueues them.
      for (const runId of [started.runId, resumeRun]) {
        expect((await h.client.runs.get(runId)).status).toBe("pending");
        await h.pool.query(
          `UPDATE "${h.schema}".runs SET updated_at = now() - interval '1 hour' WHERE id = $1`,
          [runId],
        );
      }
      const requeued = (await h.client.reconcile({ minAgeMs: 1_000 })).map((j) => j.runId);
      expect(requeued).toEqual(expect.arrayContaining([started.runId, resumeRun]));
      expect((await h.client.runs.wait(resumeRun)).status).toBe("success");
      expect((await h.client.runs.wait(started.runId)).status).toBe("interrupted");
    } finally {
      await offline.close();
      await stop();
    }
  }, 30_000);

  it("leaves alone a run whose job is waiting or running", async () => {
    const { runId } = await h.client.runs.start({ graphId: "approval", input: { item: "queued" } });
    expect((await h.client.reconcile({ minAgeMs: 0 })).map((s) => s.runId)).not.toContain(runId);
  });
});

describe("a worker that does not serve a run's graph", () => {
  it("hands the job back for a worker that does, and the run is not failed", async () => {
    const { linear } = await import("./fixtures/graphs.ts");
    const partial = createWorker({
      graphs: { linear },
      databaseUrl: h.databaseUrl,
      redisUrl: h.redisUrl,
      schema: h.schema,
      prefix: h.prefix,
      workerId: "linear-only",
      logger: pino({ level: "silent" }),
    });
    await partial.start();
    const { runId } = await h.client.runs.start({ graphId: "approval", input: { item: "bus" } });
    const jobId = (await h.queue.getJobs(["waiting", "active", "delayed"])).find(
      (job) => job.data.runId === runId,
    )?.id;
    for (let i = 0; ; i++) {
      const job = await h.queue.getJob(jobId as string);
      if ((job?.attemptsMade ?? 0) > 0) break;
      if (i > 200) throw new Error("the linear-only worker never took the job");
      await sleep(25);
    }
    // Counted for operators (a deployment whose workers serve different graph sets), once the
    // worker has seen its attempt fail.
    const unserved = /layover_jobs_total\{result="unserved",service="worker"\} [1-9]/;
    for (let i = 0; !unserved.test(await partial.context.metrics.registry.metrics()); i++) {
      if (i > 200) throw new Error("the handed-back job was never counted as unserved");
      await sleep(25);
    }
    await partial.close();
    expect((await h.client.runs.get(runId)).status).toBe("pending");
    const stop = await h.startWorker({ id: "all-graphs" });
    expect(await h.client.runs.wait(runId, { timeoutMs: 20_000 })).toMatchObject({ status: "interrupted" });
    await stop();
  });
});
