import type { Redis } from "ioredis";
import type { Logger } from "pino";
import { connectRedis } from "../connections.ts";
import { parseRunEvent, runEventsChannel } from "../jobs.ts";

/**
 * One Redis subscription per client, fanned out to the callers waiting on each run. Events
 * only wake waiters up: what a run's status is, Postgres decides.
 */
export class RunEventHub {
  private readonly waiters = new Map<string, Set<(status: string) => void>>();
  private subscribed: Promise<unknown> | undefined;
  private readonly subscriber: Redis;
  private readonly channel: string;

  constructor(connection: Redis, prefix: string, logger: Logger) {
    this.subscriber = connectRedis(connection, logger, "client run events");
    this.channel = runEventsChannel(prefix);
    this.subscriber.on("message", (_channel: string, message: string) => this.deliver(message));
  }

  /**
   * Registers `wake` for `runId` at once; `ready` resolves once the subscription stands (read
   * Postgres after it, so no event is missed). `wake` gets the status the event announced, a
   * hint of what Postgres will say. `stop` unregisters.
   */
  listen(runId: string, wake: (status: string) => void): { ready: Promise<unknown>; stop(): void } {
    this.subscribed ??= this.subscriber.subscribe(this.channel).catch((error: unknown) => {
      this.subscribed = undefined; // the next waiter tries again
      throw error;
    });
    let set = this.waiters.get(runId);
    if (set === undefined) {
      set = new Set();
      this.waiters.set(runId, set);
    }
    set.add(wake);
    return {
      ready: this.subscribed,
      stop: () => {
        set.delete(wake);
        if (set.size === 0) this.waiters.delete(runId);
      },
    };
  }

  private deliver(message: string): void {
    // Anything else published on the channel is ignored: it must not throw in Redis's handler.
    const event = parseRunEvent(message);
    if (event === undefined) return;
    for (const wake of this.waiters.get(event.runId) ?? []) wake(event.status);
  }

  async close(): Promise<void> {
    this.subscriber.disconnect();
  }
}
