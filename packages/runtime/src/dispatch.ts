import { type JobsOptions, Queue } from "bullmq";
import type { Redis } from "ioredis";
import {
  RunEvent,
  runCancelsChannel,
  runEventsChannel,
  STEP_QUEUE,
  type StepJob,
  stepJobId,
} from "./jobs.ts";

/** How jobs are kept in Redis: done jobs go at once (Postgres holds the history). */
export const STEP_JOB_OPTIONS: JobsOptions = {
  removeOnComplete: true,
  removeOnFail: { age: 7 * 24 * 3600 },
  // Infrastructure failures (Postgres restarting, a lost connection) are retried; a node's own
  // failure is recorded on the run by the worker and does not fail the job.
  attempts: 8,
  backoff: { type: "exponential", delay: 250 },
};

/** Sends step jobs to BullMQ and run events to Redis pub/sub. */
export interface Dispatcher {
  readonly queue: Queue<StepJob>;
  enqueue(job: StepJob): Promise<void>;
  /** Many step jobs in one round trip to Redis (BullMQ addBulk: one MULTI), as the sweep records them. */
  enqueueMany(jobs: readonly StepJob[]): Promise<void>;
  publish(event: RunEvent): Promise<void>;
  /** A cancelled run: wakes its waiters (run events) and tells the worker running it to stop. */
  publishCancel(event: RunEvent): Promise<void>;
  close(): Promise<void>;
}

export function createDispatcher(connection: Redis, prefix: string): Dispatcher {
  const queue = new Queue<StepJob>(STEP_QUEUE, { connection, prefix });
  // The connection's own listener reports Redis errors (reportRedisErrors); unheard, BullMQ
  // would print each reconnect attempt's error.
  queue.on("error", () => {});
  const channel = runEventsChannel(prefix);
  const cancels = runCancelsChannel(prefix);
  return {
    queue,
    async enqueue(job) {
      await queue.add("step", job, { ...STEP_JOB_OPTIONS, jobId: stepJobId(job) });
    },
    async enqueueMany(jobs) {
      if (jobs.length === 0) return;
      await queue.addBulk(
        jobs.map((job) => ({
          name: "step",
          data: job,
          opts: { ...STEP_JOB_OPTIONS, jobId: stepJobId(job) },
        })),
      );
    },
    async publish(event) {
      await connection.publish(channel, JSON.stringify(RunEvent.parse(event)));
    },
    async publishCancel(event) {
      const message = JSON.stringify(RunEvent.parse(event));
      await Promise.all([connection.publish(channel, message), connection.publish(cancels, message)]);
    },
    async close() {
      await queue.close();
    },
  };
}
