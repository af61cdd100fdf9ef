// A job's side of `runs.stream`: what the engine reports while the job runs its run (when the
// run's start or resume asked for a stream), appended to the run's Redis stream as it comes.
import type { Emitter, StreamMode } from "@layover/graph";
import {
  encodeStreamChunk,
  type JobLock,
  orLate,
  REDIS_WAIT_MS,
  RUN_STREAM_END,
  RUN_STREAM_MAX_CHUNK_BYTES,
  type RunRow,
  type RunStreamEntry,
  type RunStreamMode,
  runStreamModes,
} from "@layover/runtime";
import type { Logger } from "pino";
import type { WorkerContext } from "./context.ts";
import type { JobResult } from "./job-end.ts";

/** Job results after which the run's stream has nothing more to say: the run parked or ended. */
const ENDS: ReadonlySet<JobResult | undefined> = new Set<JobResult>([
  "parked",
  "finished",
  "failed",
  "cancelled",
]);

/**
 * The chunks of one job's run on their way to Redis: sent as they come (those of one turn of the
 * event loop together), in order, each send after the one before. Redis away or slow only stops
 * this job's stream (one warn): the run goes on, and readers learn its end from Postgres.
 */
export class JobStream {
  private entries: RunStreamEntry[] = [];
  private sending: Promise<void> = Promise.resolve();
  private scheduled: NodeJS.Immediate | undefined;
  private opened = false;
  private broken = false;
  /** The end entry is on its way: a chunk pushed later (a writer a node left running) would follow it unread. */
  private closed = false;

  private readonly ctx: WorkerContext;
  private readonly runId: string;
  private readonly lock: JobLock | undefined;
  private readonly log: Logger;

  /** The stream of `job.runId`'s chunks from this job; appended only while the job holds `job.lock` when given. */
  constructor(ctx: WorkerContext, job: { runId: string; lock?: JobLock | undefined }, log: Logger) {
    this.ctx = ctx;
    this.runId = job.runId;
    this.lock = job.lock;
    this.log = log;
  }

  /** Where the engine reports `run`'s chunks, or undefined when its start or resume asked for no stream. */
  open(run: RunRow): Emitter | undefined {
    const streamed = runStreamModes(run.input);
    if (streamed === undefined) return undefined;
    this.opened = true;
    return {
      modes: new Set<StreamMode>(streamed.modes),
      push: (mode, chunk, ns) => this.push(mode as RunStreamMode, chunk, ns),
      leavesProcess: true,
      ...(streamed.subgraphs ? { subgraphs: true } : {}),
    };
  }

  private push(mode: RunStreamMode, chunk: unknown, ns?: readonly string[]): void {
    if (this.broken || this.closed) return;
    let entry: RunStreamEntry;
    try {
      entry = encodeStreamChunk(mode, chunk, ns);
    } catch (error) {
      this.log.warn({ err: error, mode }, "stream chunk not sent: it cannot be encoded");
      return;
    }
    const bytes = Buffer.byteLength(entry.data);
    if (bytes > RUN_STREAM_MAX_CHUNK_BYTES) {
      this.log.warn(
        { mode, bytes, maxBytes: RUN_STREAM_MAX_CHUNK_BYTES },
        "stream chunk not sent: it is too large",
      );
      return;
    }
    this.entries.push(entry);
    this.scheduled ??= setImmediate(() => {
      this.scheduled = undefined;
      void this.send();
    });
  }

  private send(): Promise<void> {
    const entries = this.entries;
    this.entries = [];
    this.sending = this.sending.then(async () => {
      if (entries.length === 0 || this.broken) return;
      try {
        const appending = this.ctx.dispatcher.appendStream(this.runId, entries, this.lock);
        if (await orLate(appending, REDIS_WAIT_MS, "run stream")) return;
        // Its lock expired (frozen past it) and another worker took the job: it goes on with the run.
        this.broken = true;
        this.log.info(
          "run stream not sent: this job's lock was lost; the worker that took it over streams the run",
        );
      } catch (error) {
        this.broken = true;
        this.log.warn(
          { err: error },
          "run stream not sent; runs.stream readers get the run's end from Postgres",
        );
      }
    });
    return this.sending;
  }

  /**
   * Sends what was reported so far and waits for Redis to take it: call before the run's next
   * job can start (before this job enqueues it), so that its stream stays in order across workers.
   */
  async flush(): Promise<void> {
    if (!this.opened) return;
    if (this.scheduled !== undefined) clearImmediate(this.scheduled);
    this.scheduled = undefined;
    await this.send();
  }

  /** The job ended with `result` (undefined: it failed): the rest of its chunks, then the end entry once the run parked or ended. */
  async close(result: JobResult | undefined): Promise<void> {
    if (!this.opened) return;
    if (ENDS.has(result)) this.entries.push({ event: RUN_STREAM_END, data: result as string });
    this.closed = ENDS.has(result);
    await this.flush();
  }

  /**
   * A job of `run`, which had already ended (its worker died before its end entry, or it was
   * cancelled before any job ran it): the end entry, if it streams, so its readers end now.
   */
  async ended(run: RunRow): Promise<void> {
    if (this.open(run) === undefined) return;
    this.entries.push({ event: RUN_STREAM_END, data: run.status });
    this.closed = true;
    await this.flush();
  }
}
