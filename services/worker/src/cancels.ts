import { connectRedis, parseRunEvent, runCancelsChannel } from "@layover/runtime";
import type { Redis } from "ioredis";
import type { Logger } from "pino";

/**
 * Which of the runs this worker is executing were cancelled: producers announce a cancel on
 * Redis (best effort), and a job stops before its next superstep instead of at the next commit
 * that finds the run cancelled in Postgres.
 */
export interface CancelWatch {
  start(): Promise<void>;
  /** Watches `runId` while a job runs it; call the returned function when the job ends. */
  track(runId: string): () => void;
  isCancelled(runId: string): boolean;
  close(): void;
}

export function watchCancels(connection: Redis, prefix: string, logger: Logger): CancelWatch {
  const subscriber = connectRedis(connection, logger, "worker cancels");
  const active = new Map<string, { jobs: number; cancelled: boolean }>();
  subscriber.on("message", (_channel: string, message: string) => {
    const watched = active.get(parseRunEvent(message)?.runId ?? "");
    if (watched !== undefined) watched.cancelled = true;
  });
  return {
    async start() {
      await subscriber.subscribe(runCancelsChannel(prefix));
    },
    track(runId) {
      const watched = active.get(runId) ?? { jobs: 0, cancelled: false };
      watched.jobs += 1;
      active.set(runId, watched);
      return () => {
        watched.jobs -= 1;
        if (watched.jobs === 0) active.delete(runId);
      };
    },
    isCancelled: (runId) => active.get(runId)?.cancelled === true,
    close() {
      subscriber.disconnect();
    },
  };
}
