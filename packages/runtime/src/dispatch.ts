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
import {
  RUN_STREAM_MAX_ENTRIES,
  RUN_STREAM_TTL_MS,
  type RunStreamEntry,
  runStreamKey,
} from "./run-stream.ts";

/** How jobs are kept in Redis: done jobs go at once (Postgres holds the history). */
export const STEP_JOB_OPTIONS: JobsOptions = {
  removeOnComplete: true,
  removeOnFail: { age: 7 * 24 * 3600 },
  // Infrastructure failures (Postgres restarting, a lost connection) are retried; a node's own
  // failure is recorded on the run by the worker and does not fail the job.
  attempts: 8,
  backoff: { type: "exponential", delay: 250 },
};

/**
 * The most commands a dispatcher leaves waiting for Redis by default. While Redis is away, a
 * command waits in the connection's queue to be sent on its return (a call gives up waiting
 * after REDIS_WAIT_MS, the command does not), each holding its job's data: a producer making
 * calls all through a long outage would hold them all, without bound.
 */
export const DEFAULT_MAX_REDIS_BACKLOG = 10_000;

/** A command not sent: Redis has yet to answer as many others of this dispatcher as it allows. */
export class RedisBacklogError extends Error {
  override name = "RedisBacklogError";
}

/**
 * Sends commands while fewer than `limit` wait for Redis's answer; refuses the others at once
 * (what Postgres records of them is carried on by reconciliation).
 */
function backlogOf(limit: number) {
  let waiting = 0;
  const done = () => {
    waiting -= 1;
  };
  return <T>(send: () => Promise<T>): Promise<T> => {
    if (waiting >= limit)
      return Promise.reject(
        new RedisBacklogError(
          `Redis has yet to answer ${limit} commands of this process (it is away or slow): this one is not sent.`,
        ),
      );
    waiting += 1;
    const sent = send();
    sent.then(done, done);
    return sent;
  };
}

/**
 * Appends entries (ARGV[4…]: event, data, event, data…) to a run's stream (KEYS[1]), trimmed to
 * about ARGV[1] entries, and keeps it ARGV[2] ms from now: atomically, in order. With a fence
 * (KEYS[2], a BullMQ job's lock key, and ARGV[3], the token the job was given), only while that
 * job's lock still holds the token, else nothing (-1).
 */
const APPEND_STREAM = `
if #KEYS > 1 and redis.call("GET", KEYS[2]) ~= ARGV[3] then return -1 end
for i = 4, #ARGV, 2 do
  redis.call("XADD", KEYS[1], "MAXLEN", "~", ARGV[1], "*", "e", ARGV[i], "d", ARGV[i + 1])
end
redis.call("PEXPIRE", KEYS[1], ARGV[2])
return (#ARGV - 3) / 2`;

/** A job's hold on its work: its BullMQ lock key and the token its worker was given. */
export interface JobLock {
  key: string;
  token: string;
}

/** Sends step jobs to BullMQ and run events to Redis pub/sub. */
export interface Dispatcher {
  readonly queue: Queue<StepJob>;
  enqueue(job: StepJob): Promise<void>;
  /** Many step jobs in one round trip to Redis (BullMQ addBulk: one MULTI), as the sweep records them. */
  enqueueMany(jobs: readonly StepJob[]): Promise<void>;
  publish(event: RunEvent): Promise<void>;
  /** A cancelled run: wakes its waiters (run events) and tells the worker running it to stop. */
  publishCancel(event: RunEvent): Promise<void>;
  /**
   * Appends entries to run `runId`'s stream in one round trip, in order, trimming it to about
   * RUN_STREAM_MAX_ENTRIES and keeping it RUN_STREAM_TTL_MS from now. Given the job's `lock`,
   * only while the job still holds it: false when it did not (a worker frozen past its lock,
   * whose job another worker took over), and nothing was appended.
   */
  appendStream(runId: string, entries: readonly RunStreamEntry[], lock?: JobLock): Promise<boolean>;
  /** Whether `lock` still holds its job: its key has the worker's token (BullMQ's lock, read). */
  holdsLock(lock: JobLock): Promise<boolean>;
  close(): Promise<void>;
}

export function createDispatcher(
  connection: Redis,
  prefix: string,
  maxBacklog = DEFAULT_MAX_REDIS_BACKLOG,
): Dispatcher {
  const queue = new Queue<StepJob>(STEP_QUEUE, { connection, prefix });
  // The connection's own listener reports Redis errors (reportRedisErrors); unheard, BullMQ
  // would print each reconnect attempt's error.
  queue.on("error", () => {});
  const channel = runEventsChannel(prefix);
  const cancels = runCancelsChannel(prefix);
  const bounded = backlogOf(maxBacklog);
  return {
    queue,
    async enqueue(job) {
      await bounded(() => queue.add("step", job, { ...STEP_JOB_OPTIONS, jobId: stepJobId(job) }));
    },
    async enqueueMany(jobs) {
      if (jobs.length === 0) return;
      await bounded(() =>
        queue.addBulk(
          jobs.map((job) => ({
            name: "step",
            data: job,
            opts: { ...STEP_JOB_OPTIONS, jobId: stepJobId(job) },
          })),
        ),
      );
    },
    async publish(event) {
      const message = JSON.stringify(RunEvent.parse(event));
      await bounded(() => connection.publish(channel, message));
    },
    async publishCancel(event) {
      const message = JSON.stringify(RunEvent.parse(event));
      await bounded(() =>
        Promise.all([connection.publish(channel, message), connection.publish(cancels, message)]),
      );
    },
    async appendStream(runId, entries, lock) {
      if (entries.length === 0) return true;
      const fields = entries.flatMap(({ event, data }) => [event, data]);
      const keys =
        lock === undefined ? [runStreamKey(prefix, runId)] : [runStreamKey(prefix, runId), lock.key];
      // One command: a pipeline on this connection copies BullMQ's scripts into itself each time.
      const appended = await bounded(() =>
        connection.eval(
          APPEND_STREAM,
          keys.length,
          ...keys,
          RUN_STREAM_MAX_ENTRIES,
          RUN_STREAM_TTL_MS,
          lock?.token ?? "",
          ...fields,
        ),
      );
      return appended !== -1;
    },
    async holdsLock(lock) {
      return (await bounded(() => connection.get(lock.key))) === lock.token;
    },
    async close() {
      await queue.close();
    },
  };
}
