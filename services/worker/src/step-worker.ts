// BullMQ's side of a worker: the Worker that takes step jobs, its processor, and what it does
// with a job it cannot run, a job that failed, and its own errors.
import { logWorkerErrors, type OutageGate, STEP_QUEUE, StepJob, stepJobId } from "@layover/runtime";
import { DelayedError, type Job, WaitingError, Worker } from "bullmq";
import type { Redis } from "ioredis";
import type { Logger } from "pino";
import type { WorkerContext } from "./context.ts";
import { GraphNotServedError, processStepJob } from "./process-job.ts";

/** Times per attempt a job a worker cannot run goes back to the queue before the attempt fails. */
const OFFERS = 5;
/** How long an offered job waits before any worker may take it (up to twice this, jittered). */
const OFFER_DELAY_MS = 25;

/**
 * Puts a job this worker cannot run back in the queue for another worker, after a moment (no
 * attempt spent): put straight back to wait, it was mostly taken again by this worker, which
 * fetches the moment it lets go, before a blocked worker wakes; due a moment later, it goes to
 * whichever waiting worker fetches first. After OFFERS the attempt fails and backs off as
 * before, so with no worker able to run it the job does not spin; each attempt (one that came
 * back here) is offered again, to workers started meanwhile.
 */
async function offerElsewhere(job: Job<StepJob>, token: string): Promise<boolean> {
  const offers = job.data.offers ?? 0;
  if (offers >= OFFERS * (job.attemptsMade + 1)) return false;
  await job.updateData({ ...job.data, offers: offers + 1 });
  await job.moveToDelayed(Date.now() + OFFER_DELAY_MS * (1 + Math.random()), token);
  return true;
}

/**
 * BullMQ's processor of step jobs: advances the job's thread (processStepJob), counting the
 * result; a job this worker cannot run goes back to the queue for another (offerElsewhere), and
 * one that could not reach Postgres waits there until it answers (postgresOutageGate).
 */
function stepJobProcessor(ctx: WorkerContext, logger: Logger, outage: OutageGate) {
  return async (job: Job<StepJob>, token?: string) => {
    const startedAt = Date.now();
    const takenAt = performance.now();
    const data = StepJob.parse(job.data);
    const log = logger.child({
      jobId: job.id ?? stepJobId(data),
      threadId: data.threadId,
      runId: data.runId,
    });
    // A job handed back on its last attempt would fail for good: that one settles its run.
    const last = job.attemptsMade + 1 >= (job.opts.attempts ?? 1);
    // Lost when BullMQ fails to renew the job's lock, or hands this worker the job again while
    // this attempt runs: its nodes' signal aborts (job-loss.ts).
    const { loss, leave } = ctx.losses.track(job.id ?? stepJobId(data));
    try {
      const lock =
        token === undefined ? undefined : { key: `${ctx.dispatcher.queue.toKey(job.id ?? "")}:lock`, token };
      const result = await processStepJob(ctx, data, log, {
        last,
        startedAt: takenAt,
        loss,
        ...(lock ? { lock } : {}),
      });
      ctx.metrics.jobs.inc({ result });
      return result;
    } catch (error) {
      if (error instanceof GraphNotServedError && token && (await offerElsewhere(job, token))) {
        ctx.metrics.jobs.inc({ result: "unserved" });
        log.info({ offers: (data.offers ?? 0) + 1 }, "job put back for a worker that can run it");
        throw new DelayedError();
      }
      if (await outage.holdIfDown(error, job, token, startedAt)) {
        ctx.metrics.jobs.inc({ result: "postgres_down" });
        throw new WaitingError();
      }
      throw error;
    } finally {
      // After any newer attempt of the job here: BullMQ stops renewing the job's lock when one returns.
      await leave();
    }
  };
}

/** How the step worker takes jobs: the worker's options of the same names, resolved. */
export interface StepWorkerSettings {
  prefix: string;
  concurrency: number;
  lockDurationMs: number;
  stalledIntervalMs: number;
}

/**
 * The BullMQ Worker of step jobs on `connection`, taking jobs as soon as it is made. A job that
 * failed is counted and logged; the Worker's own errors as logWorkerErrors says (a lost lock: a
 * warning, not an error).
 */
export function stepWorker(
  ctx: WorkerContext,
  outage: OutageGate,
  connection: Redis,
  settings: StepWorkerSettings,
): Worker<StepJob> {
  const { logger } = ctx;
  const worker = new Worker<StepJob>(STEP_QUEUE, stepJobProcessor(ctx, logger, outage), {
    connection,
    prefix: settings.prefix,
    concurrency: settings.concurrency,
    lockDuration: settings.lockDurationMs,
    stalledInterval: settings.stalledIntervalMs,
    maxStalledCount: 5,
  });
  worker.on("failed", (job, error) => {
    // A job's data as read from Redis: ids only when they are ids (a malformed job's may be anything).
    const id = (value: unknown) => (typeof value === "string" ? value : undefined);
    const where = {
      err: error,
      jobId: job?.id,
      threadId: id(job?.data.threadId),
      runId: id(job?.data.runId),
    };
    const unserved = error instanceof GraphNotServedError;
    ctx.metrics.jobs.inc({ result: unserved ? "unserved" : "error" });
    if (unserved) logger.warn(where, "job handed back: graph or node not served here");
    else logger.error(where, "job failed");
  });
  logWorkerErrors(worker, logger, "worker error");
  // A renewal fails only for a lock that is gone or another worker's: those jobs are lost here.
  // And it may say the process stood still unseen (a VM paused with its clock): every job's next
  // commit reads its lock.
  worker.on("lockRenewalFailed", (jobIds) => {
    ctx.losses.lose(jobIds);
    ctx.pauses.lapsed();
  });
  return worker;
}
