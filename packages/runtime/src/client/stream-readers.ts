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
  private readonly inUse = new Set<Redis>();
  private readonly closer = new AbortController();
  /** Aborts when the client closes: its open streams end. */
  readonly closing = this.closer.signal;
  private readonly from: Redis;
  private readonly logger: Logger;

  constructor(from: Redis, logger: Logger) {
    this.from = from;
    this.logger = logger;
  }

  acquire(): Redis {
    const reader = this.idle.pop() ?? connectRedis(this.from, this.logger, "client run stream");
    this.inUse.add(reader);
    return reader;
  }

  /** Back for the next stream when `clean` (no read in flight on it, which would answer the next one's), else closed. */
  release(reader: Redis, clean: boolean): void {
    this.inUse.delete(reader);
    if (clean && !this.closing.aborted && reader.status === "ready" && this.idle.length < MAX_IDLE)
      this.idle.push(reader);
    else reader.disconnect();
  }

  /**
   * Ends the open streams (and waits given `closing`, rejected with `reason`) and closes every
   * reader, idle or not (a stream the app stopped reading still holds one).
   */
  close(reason?: unknown): void {
    this.closer.abort(reason);
    for (const reader of [...this.idle.splice(0), ...this.inUse]) reader.disconnect();
    this.inUse.clear();
  }
}
