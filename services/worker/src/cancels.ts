import { connectRedis, parseRunEvent, runCancelsChannel } from "@layover/runtime";
import type { Redis } from "ioredis";
import type { Logger } from "pino";

/**
 * Which of the runs this worker is executing were cancelled: producers announce a cancel on
 * Redis (best effort), and a job stops before its next superstep instead of at the next commit
 * that finds the run cancelled in Postgres. The run's signal aborts too: its running nodes see
 * it as `config.signal`, as LangGraph's do, and a call they handed it stops at once.
 */
export interface CancelWatch {
  start(): Promise<void>;
  /** Watches `runId` while a job runs it; call the returned function when the job ends. */
  track(runId: string): () => void;
  isCancelled(runId: string): boolean;
  /** Aborts when `runId`, tracked, is cancelled: what its nodes get as `config.signal`. */
  signal(runId: string): AbortSignal | undefined;
  close(): void;
}

/** The reason a cancelled run's signal gives (`signal.reason`): an AbortError, as fetch's. */
export class RunCancelledSignal extends Error {
  override name = "AbortError";
  constructor(runId: string) {
    super(`Run ${runId} was cancelled.`);
  }
}

export function watchCancels(connection: Redis, prefix: string, logger: Logger): CancelWatch {
  const subscriber = connectRedis(connection, logger, "worker cancels");
  const active = new Map<string, { jobs: number; cancelled: boolean; abort: AbortController }>();
  subscriber.on("message", (_channel: string, message: string) => {
    const runId = parseRunEvent(message)?.runId ?? "";
    const watched = active.get(runId);
    if (watched === undefined) return;
    watched.cancelled = true;
    watched.abort.abort(new RunCancelledSignal(runId));
  });
  return {
    async start() {
      await subscriber.subscribe(runCancelsChannel(prefix));
    },
    track(runId) {
      const watched = active.get(runId) ?? { jobs: 0, cancelled: false, abort: new AbortController() };
      watched.jobs += 1;
      active.set(runId, watched);
      return () => {
        watched.jobs -= 1;
        if (watched.jobs === 0) active.delete(runId);
      };
    },
    isCancelled: (runId) => active.get(runId)?.cancelled === true,
    signal: (runId) => active.get(runId)?.abort.signal,
    close() {
      subscriber.disconnect();
    },
  };
}
