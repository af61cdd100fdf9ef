import type { Redis } from "ioredis";
import type { Logger } from "pino";
import { connectRedis } from "../connections.ts";

/** Idle readers a client keeps for its next streams; more are closed once their stream ends. */
const MAX_IDLE = 8;

/**
 * The Redis connections runs.stream reads with: a blocking read holds its connection, so each
 * open stream has one of its own, taken from those earlier streams left idle when there are
 * some (a connection is made, and asks PING, once rather than per stream).
 */
export class StreamReaders {
  private readonly idle: Redis[] = [];
  private closed = false;
  private readonly from: Redis;
  private readonly logger: Logger;

  constructor(from: Redis, logger: Logger) {
    this.from = from;
    this.logger = logger;
  }

  acquire(): Redis {
    return this.idle.pop() ?? connectRedis(this.from, this.logger, "client run stream");
  }

  /** Back for the next stream when `clean` (no read in flight on it, which would answer the next one's), else closed. */
  release(reader: Redis, clean: boolean): void {
    if (clean && !this.closed && reader.status === "ready" && this.idle.length < MAX_IDLE)
      this.idle.push(reader);
    else reader.disconnect();
  }

  close(): void {
    this.closed = true;
    for (const reader of this.idle.splice(0)) reader.disconnect();
  }
}
