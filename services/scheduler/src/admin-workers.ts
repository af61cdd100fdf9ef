// layover-admin's check that some worker takes what it enqueues: a LAYOVER_PREFIX (or REDIS_URL)
// other than the workers' records the answer in Postgres and enqueues its job where no worker
// looks, and the command would report success while the run waits for reconciliation.
import { connectRedis, STEP_QUEUE } from "@layover/runtime";
import { Queue } from "bullmq";
import type { Logger } from "pino";

/** How long the check waits for Redis before leaving it (Redis away: the client warned already). */
const CHECK_MS = 2_000;

/**
 * The number of workers connected to the step queue under `prefix` on `redisUrl` (BullMQ's
 * named worker connections); undefined when Redis did not answer within CHECK_MS.
 */
export async function workersListening(
  redisUrl: string,
  prefix: string,
  logger: Logger,
): Promise<number | undefined> {
  const connection = connectRedis(redisUrl, logger, "layover-admin worker check");
  const queue = new Queue(STEP_QUEUE, { connection, prefix });
  queue.on("error", () => {}); // reported by the connection's own listener
  let timer: NodeJS.Timeout | undefined;
  try {
    const timeout = new Promise<undefined>((resolve) => {
      timer = setTimeout(() => resolve(undefined), CHECK_MS);
    });
    return await Promise.race([queue.getWorkersCount(), timeout]);
  } catch {
    return undefined;
  } finally {
    clearTimeout(timer);
    await queue.close().catch(() => undefined);
    connection.disconnect();
  }
}

/** The warning for an answer enqueued where no worker listens, naming what to check. */
export function noWorkerWarning(prefix: string): string {
  return (
    `warning: no worker is connected to this Redis under LAYOVER_PREFIX "${prefix}": the run waits until one is. ` +
    "If workers are running, check that LAYOVER_PREFIX and REDIS_URL are the ones they use."
  );
}
