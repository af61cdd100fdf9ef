import type { Redis } from "ioredis";
import type { Logger } from "pino";
import { connectRedis } from "../connections.ts";
import { parseRunEvent, type RunEventResult, runEventsChannel } from "../jobs.ts";

/** Runs this client created whose events it keeps for a wait; the oldest are forgotten beyond this. */
const MAX_EXPECTED = 10_000;

/**
 * How long after a run was recorded a wait may rely on its events alone. A run that settled
 * without announcing it (its worker died in between, a half-open socket) is then read at once
 * by a later wait, as before, rather than at the wait's first recheck.
 */
const HEARD_FOR_MS = 1_000;

/** What an event announced: the run's status and, from its worker, what it stored. */
export interface Announced {
  threadId: string;
  status: string;
  result?: RunEventResult | undefined;
}

/** What the hub heard of a run it expected, if it heard every event since the run was created. */
export interface Heard {
  threadId: string;
  /** The last status announced, if any was. */
  status: string | undefined;
}

/** Where a run event's id sits when the message begins as the dispatcher writes it. */
const ID_PREFIX = '{"runId":"';
const UUID_LENGTH = 36;

/**
 * One Redis subscription per client, fanned out to the callers waiting on each run. An event
 * wakes its waiters; the worker's event of a park or an end also says what the run stored
 * (after its commit), which answers the waits under way (waitForRun).
 *
 * A run this client is about to create is `expect`ed: when the subscription stood before the
 * run was recorded and has not dropped since (a dropped connection loses messages), every event
 * of the run reached the hub, so a wait need not read Postgres before the first one.
 */
export class RunEventHub {
  private readonly waiters = new Map<string, Set<(event: Announced) => void>>();
  /** Woken by every run's park (interrupts.watch). */
  /** interrupts.watch's wakes, each with the graph it watches (undefined: every graph). */
  private readonly parkListeners = new Map<() => void, string | undefined>();
  private subscribed: Promise<unknown> | undefined;
  /** Counts the subscription's drops: a SUBSCRIBE answered after a drop does not make it live. */
  private generation = 0;
  private live = false;
  /** Cleared when the subscription drops: what remains was heard without a gap. */
  private readonly expected = new Map<string, Heard & { at: number }>();
  private readonly subscriber: Redis;
  private readonly channel: string;

  constructor(connection: Redis, prefix: string, logger: Logger) {
    this.subscriber = connectRedis(connection, logger, "client run events");
    this.channel = runEventsChannel(prefix);
    this.subscriber.on("message", (_channel: string, message: string) => this.deliver(message));
    this.subscriber.on("close", () => this.dropped());
  }

  private subscribe(): Promise<unknown> {
    if (this.subscribed !== undefined) return this.subscribed;
    const generation = this.generation;
    const subscribed = this.subscriber.subscribe(this.channel).then(
      (count) => {
        if (generation === this.generation) this.live = true;
        return count;
      },
      (error: unknown) => {
        if (this.subscribed === subscribed) this.subscribed = undefined; // the next waiter tries again
        throw error;
      },
    );
    this.subscribed = subscribed;
    return subscribed;
  }

  /** Messages may have been missed: expectations end; the next listen subscribes again (a no-op for Redis if ioredis already did). */
  private dropped(): void {
    this.generation += 1;
    this.live = false;
    this.subscribed = undefined;
    this.expected.clear();
  }

  /**
   * Registers `wake` for `runId` at once; `ready` resolves once the subscription stands (read
   * Postgres after it, so no event is missed). `wake` gets what the event announced: the status,
   * and what the run stored when its worker sent it. `stop` unregisters.
   */
  listen(runId: string, wake: (event: Announced) => void): { ready: Promise<unknown>; stop(): void } {
    const ready = this.subscribe();
    let set = this.waiters.get(runId);
    if (set === undefined) {
      set = new Set();
      this.waiters.set(runId, set);
    }
    set.add(wake);
    return {
      ready,
      stop: () => {
        set.delete(wake);
        if (set.size === 0) this.waiters.delete(runId);
      },
    };
  }

  /**
   * Registers `wake` for every park of a run of `graphId` (of any graph if undefined, and a park
   * whose event names no graph, from a worker older than graph ids in events, wakes every one);
   * `ready` as in `listen`. `stop` unregisters.
   */
  listenParks(wake: () => void, graphId?: string): { ready: Promise<unknown>; stop(): void } {
    const ready = this.subscribe();
    this.parkListeners.set(wake, graphId);
    return { ready, stop: () => this.parkListeners.delete(wake) };
  }

  /** Called before this client records run `runId` (lower case): its events are kept for a wait. */
  expect(runId: string, threadId: string): void {
    if (!this.live) {
      this.subscribe().catch(() => undefined); // later runs can be expected
      return;
    }
    this.expected.set(runId, { threadId, status: undefined, at: Date.now() });
    if (this.expected.size > MAX_EXPECTED) this.expected.delete(this.expected.keys().next().value as string);
  }

  /** The run was not recorded (refused, or another run was returned): nothing to keep. */
  unexpect(runId: string): void {
    this.expected.delete(runId);
  }

  /**
   * What was heard of an expected run, once: undefined unless every event since its creation
   * reached the hub, and it was created a moment ago (HEARD_FOR_MS) or an event told of it.
   * Call after `listen`, so that nothing falls between the two.
   */
  heard(runId: string): Heard | undefined {
    const entry = this.expected.get(runId);
    this.expected.delete(runId);
    if (entry === undefined || !this.live) return undefined;
    if (entry.status === undefined && Date.now() - entry.at > HEARD_FOR_MS) return undefined;
    return { threadId: entry.threadId, status: entry.status };
  }

  /** Whether this client waits for, or keeps the events of, the run a message names (cheaply, before parsing it). */
  private wanted(message: string): boolean {
    if (!message.startsWith(ID_PREFIX)) return true; // not as the dispatcher writes: let the parse decide
    // A park, for interrupts.watch (a state holding the text too only costs a parse).
    if (this.parkListeners.size > 0 && message.includes('"status":"interrupted"')) return true;
    const runId = message.slice(ID_PREFIX.length, ID_PREFIX.length + UUID_LENGTH);
    return this.waiters.has(runId) || this.expected.has(runId);
  }

  private deliver(message: string): void {
    // Every client hears every run's events: those of runs nobody here waits for are not parsed.
    if (!this.wanted(message)) return;
    // Anything else published on the channel is ignored: it must not throw in Redis's handler.
    const event = parseRunEvent(message);
    if (event === undefined) return;
    const expected = this.expected.get(event.runId);
    if (expected !== undefined) expected.status = event.status;
    const announced = { threadId: event.threadId, status: event.status, result: event.result };
    for (const wake of this.waiters.get(event.runId) ?? []) wake(announced);
    if (event.status !== "interrupted") return;
    for (const [wake, graphId] of this.parkListeners)
      if (graphId === undefined || event.graphId === undefined || graphId === event.graphId) wake();
  }

  async close(): Promise<void> {
    this.subscriber.disconnect();
  }
}
