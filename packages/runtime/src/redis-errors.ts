import type { Redis } from "ioredis";
import type { Logger } from "pino";

/**
 * Logs a Redis connection's errors instead of ioredis's "Unhandled error event" on stderr: the
 * first error of each outage at warn (ioredis keeps reconnecting and raises one per attempt),
 * and the recovery at info.
 */
export function reportRedisErrors(redis: Redis, logger: Logger, what: string): Redis {
  let down = false;
  redis.on("error", (error: Error) => {
    if (down) return;
    down = true;
    logger.warn({ err: error, connection: what }, "Redis unreachable; retrying");
  });
  redis.on("ready", () => {
    if (!down) return;
    down = false;
    logger.info({ connection: what }, "Redis reachable again");
  });
  return redis;
}
