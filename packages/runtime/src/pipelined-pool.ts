// A pg pool whose single statements go out pipelined on a few connections ("lanes"), each sent
// without waiting for the answers before it, while transactions still take a pooled connection
// of their own. Every statement a worker's jobs send is one autocommit statement: on a pool, each
// takes a connection, so eight jobs keep eight Postgres backends in play, each woken for one
// statement at a time. On two lanes, the backend that is awake finds the next statement waiting
// and no other backend wakes: the same statements cost Postgres less CPU (bench/README.md).
import type { Socket } from "node:net";
import pg from "pg";
import { InvalidConfigError } from "./errors.ts";
import { shown } from "./keys.ts";
import { isNamed, isStatementAnswer, pipelinable, sqlstate } from "./pipelined-statements.ts";

/** The lanes a worker's or a producer client's own pool pipelines on. */
export const DEFAULT_POSTGRES_LANES = 2;

/** The most lanes a pool may have: each is a Postgres connection held while statements come. */
export const MAX_POSTGRES_LANES = 64;

/** Refuses a `postgresLanes` option (of `who`) that is not a count of lanes, before any connection opens. */
export function checkPostgresLanes(who: string, lanes: unknown): void {
  if (
    lanes === undefined ||
    (Number.isSafeInteger(lanes) && (lanes as number) >= 0 && (lanes as number) <= MAX_POSTGRES_LANES)
  )
    return;
  throw new InvalidConfigError(
    `${who}: postgresLanes must be a whole number of connections from 0 (none: a plain pool) to ${MAX_POSTGRES_LANES}, or left out for ${DEFAULT_POSTGRES_LANES}; got ${shown(lanes)}.`,
  );
}

/**
 * How long a retired lane's connection may take to close once its statements are answered: a
 * server answers a Terminate at once, so past this its network is taken to be gone and the socket
 * is dropped (so `end()` settles through a partition, as a plain pool's does).
 */
export const LANE_CLOSE_MS = 1_000;

/** How many statements one lane holds before a statement takes a pooled connection instead. */
export const LANE_DEPTH = 8;

/**
 * A connected lane with statements out that has answered nothing for this long beyond its round
 * trip is stalled (its first statement waits on a lock, or is slow): it takes no more until it
 * answers again. Its round trip is the quickest it has answered a statement, from the send, or
 * its handshake's time if that was quicker (a handshake takes a round trip at least, and no
 * lock): without it, the lanes of a server 30 ms away were all seen stalled before an answer
 * could come back, and their statements spilled to pooled connections, each a handshake over the
 * same distance. A lane still connecting takes statements up to LANE_DEPTH.
 */
export const LANE_STALL_MS = 20;

interface Lane {
  client: pg.Client;
  ready: Promise<void>;
  /** Statements sent on it (or waiting for it to connect) and not yet answered. */
  inFlight: number;
  /** When it last answered a statement, or was sent one while it had none out. */
  progressAt: number;
  /** Its connection failed or ended, or the pool ends: no statement is sent on it again. */
  closed: boolean;
  /** Settles once a closed lane's connection has ended. */
  ended: Promise<void>;
  /** It answered nothing for the pool's query_timeout: what its statements fail with. */
  silent?: Error;
  /** Its socket holds what is written to it until the event loop's check phase (see `batchWrites`). */
  corked: boolean;
  /** When it was retired (no statement is sent on it after). */
  retiredAt?: number;
  /** Its connection is up: until then its statements wait for it, not for an answer. */
  connected: boolean;
  /** When it was opened (the pool's maxLifetimeSeconds counts from then). */
  openedAt: number;
  /** Statements sent on it (the pool's maxUses counts them). */
  uses: number;
  /**
   * Its round trip: the quickest it answered a statement, from the send, or its handshake's time
   * if quicker (this connection's: a failover's server may be farther). Infinity until connected.
   */
  roundTripMs: number;
}

/** pg's query(), whichever of its forms a caller used. */
type AnyQuery = (...args: unknown[]) => unknown;

/**
 * A pg.Pool (connect() and transactions as any pool's) whose `query(…)` pipelines each statement
 * on the least busy of `lanes` connections, opened as needed with the pool's own settings. Each
 * statement keeps its own implicit transaction (pg sends a Sync after each), so one that fails
 * fails alone. A lane whose connection fails or ends is dropped (the statements on it fail, as on
 * a pool) and the next statement opens another.
 *
 * A statement waits behind those sent before it on its lane, so one that waits on a lock delays
 * them. What bounds that: a connected lane that has answered nothing for LANE_STALL_MS beyond its
 * round trip takes no statement until it answers, nor does one holding LANE_DEPTH; when no lane
 * may take a statement, it takes a pooled connection, as do a callback-style query, a cursor (it
 * keeps a portal open) and a statement with a query_timeout of its own (a probe's: it must not
 * wait behind others). At worst, the statements sent on a lane before it stalled wait with the
 * one it waits on.
 *
 * `spilled` counts those taken off the lanes so (a worker's metrics show it): many say that the
 * lanes' statements wait on locks, or that more are sent at once than lanes hold.
 *
 * The pool's `query_timeout` applies to a lane, not to each statement on it (time spent behind
 * others is not the statement's): a lane that answers nothing for that long is dropped and its
 * statements fail with pg's "Query read timeout", as a silent pooled connection's would. The
 * other lanes are dropped with it (those with statements out once these are answered): an idle
 * one, open through the same silence, would show it is dead only by failing the next statement
 * sent on it, after the network returned.
 *
 * A lane lives as the pool's connections do: one idle for `idleTimeoutMillis` closes unless only
 * `min` are open; one open for `maxLifetimeSeconds`, or sent `maxUses` statements, takes no more
 * and closes once what is on it is answered (the next statement opens another); with
 * `allowExitOnIdle`, an idle lane does not keep the process alive.
 */
export class PipelinedPool extends pg.Pool {
  private readonly laneConfig: pg.ClientConfig;
  private readonly laneCount: number;
  private readonly silentMs: number;
  private readonly lanes: Lane[] = [];
  /** Lanes retired with statements still on them: watched until their connection ends. */
  private readonly draining = new Set<Lane>();
  private watchdog: NodeJS.Timeout | undefined;
  private closing = false;
  private spills = 0;

  constructor(config: pg.PoolConfig, lanes: number) {
    checkPostgresLanes("PipelinedPool", lanes);
    if (lanes === 0)
      throw new InvalidConfigError("PipelinedPool: lanes must be at least 1 (a plain pg.Pool has none).");
    super(config);
    const { query_timeout: silentMs, ...laneConfig } = config as pg.PoolConfig & { query_timeout?: number };
    this.laneConfig = { ...laneConfig, pipeline: true } as pg.ClientConfig;
    this.silentMs = silentMs ?? 0;
    this.laneCount = lanes;
    this.query = ((...args: unknown[]) => this.pipelined(args)) as pg.Pool["query"];
  }

  /** Connections the lanes hold now (for metrics and tests); the pool's own are `totalCount`. */
  get laneConnections(): number {
    return this.lanes.length;
  }

  override async end(): Promise<void> {
    this.closing = true;
    for (const lane of [...this.lanes]) void this.retire(lane);
    // The watchdog keeps watching what they still hold: a silent lane fails it at query_timeout.
    await Promise.all([...this.draining].map((lane) => lane.ended));
    clearInterval(this.watchdog);
    return super.end();
  }

  /** The statements a lane takes before it is replaced: the pool's `maxUses` (0: no limit, as pg-pool reads it). */
  private get maxUses(): number {
    return this.options.maxUses || Number.POSITIVE_INFINITY;
  }

  /** Statements that took a pooled connection because every lane was stalled or full. */
  get spilled(): number {
    return this.spills;
  }

  private pipelined(args: unknown[]): unknown {
    if (this.closing || !pipelinable(args)) return this.pooled(args);
    const lane = this.laneFor();
    if (lane !== undefined) return this.onLane(lane, args);
    this.spills += 1;
    return this.pooled(args);
  }

  /** pg.Pool's own query(): a connection of the pool for the statement. */
  private pooled(args: unknown[]): unknown {
    return (super.query as AnyQuery).apply(this, args);
  }

  private async onLane(lane: Lane, args: unknown[]): Promise<unknown> {
    if (lane.inFlight === 0) {
      lane.progressAt = performance.now();
      if (this.options.allowExitOnIdle) socketOf(lane).ref();
    }
    lane.inFlight += 1;
    const use = ++lane.uses;
    let sentAt: number | undefined;
    try {
      await lane.ready;
      batchWrites(lane);
      sentAt = performance.now();
      const answer = (lane.client.query as AnyQuery).apply(lane.client, args);
      // Its last statement is queued (those before it were, in order): pg ends it once they are answered.
      if (use >= this.maxUses) void this.retire(lane);
      const result = await answer;
      answered(lane, sentAt);
      return result;
    } catch (error) {
      // A failed connect is no statement's answer, whatever it says.
      const fromServer = sentAt !== undefined && isStatementAnswer(error);
      if (sentAt !== undefined && fromServer) answered(lane, sentAt);
      // Named statements sent behind one whose Parse failed Bind a statement that never was
      // (26000): nothing ran, so each is sent again on a pooled connection, to fail as itself.
      if (sqlstate(error) === "26000" && isNamed(args)) return this.pooled(args);
      // A statement's own failure leaves its connection as it was; any other (the server ended
      // the session, the socket failed) retires the lane before another statement is sent on
      // it, though its 'end' may come later.
      if (!fromServer) void this.retire(lane);
      throw lane.silent ?? error;
    } finally {
      lane.inFlight -= 1;
      lane.progressAt = performance.now();
      if (lane.inFlight === 0 && this.options.allowExitOnIdle) socketOf(lane).unref();
    }
  }

  /**
   * The least busy connected lane that may take a statement; a new one while there are fewer
   * than asked and none is idle; else one still connecting; none (a pooled connection) when every
   * lane is stalled or full.
   */
  private laneFor(): Lane | undefined {
    const now = performance.now();
    let best: Lane | undefined;
    let connecting: Lane | undefined;
    let usable = 0;
    for (const lane of this.lanes) {
      if (lane.uses >= this.maxUses) continue; // its last statement is on its way: it retires once sent
      usable += 1;
      if (lane.inFlight >= LANE_DEPTH) continue;
      const least = (than: Lane | undefined) => than === undefined || lane.inFlight < than.inFlight;
      if (!lane.connected) {
        if (least(connecting)) connecting = lane;
      } else if (!stalled(lane, now) && least(best)) best = lane;
    }
    // A lane replaced (maxUses) may still drain: at most one replacement per lane is open beside
    // them, so a burst cannot open a connection per maxUses statements.
    const held = this.lanes.length + this.draining.size;
    if ((best === undefined || best.inFlight > 0) && usable < this.laneCount && held < 2 * this.laneCount)
      return this.open();
    // A lane still connecting takes a statement only where it would otherwise take a pooled
    // connection, which would have to connect too (a distant server's handshake takes round trips).
    return best ?? connecting;
  }

  private open(): Lane {
    const client = new pg.Client(this.laneConfig);
    const lane: Lane = {
      client,
      ready: Promise.resolve(),
      inFlight: 0,
      progressAt: 0,
      closed: false,
      ended: Promise.resolve(),
      corked: false,
      connected: false,
      roundTripMs: Number.POSITIVE_INFINITY,
      openedAt: performance.now(),
      uses: 0,
    };
    // The statements on a failed connection get its error; the event itself must not crash the process.
    client.on("error", () => void this.retire(lane));
    client.on("end", () => void this.retire(lane));
    const opening = performance.now();
    lane.ready = client.connect().then(
      () => {
        lane.connected = true;
        answered(lane, opening);
        lane.progressAt = performance.now(); // what waited for the connection starts waiting now
      },
      (error: unknown) => {
        void this.retire(lane);
        throw error;
      },
    );
    this.lanes.push(lane);
    this.watch();
    return lane;
  }

  /**
   * Watches the lanes, every tenth of query_timeout or of idleTimeoutMillis, at least twice per
   * LANE_CLOSE_MS: drops those that answered nothing for all of query_timeout, closes those idle
   * for idleTimeoutMillis, as the pool closes its idle connections, and drops retired lanes whose
   * polite close found no one to answer it.
   */
  private watch(): void {
    if (this.watchdog !== undefined) return;
    const idleMs = this.options.idleTimeoutMillis ?? 0;
    const lifetimeMs = (this.options.maxLifetimeSeconds ?? 0) * 1_000;
    const periods = [this.silentMs, idleMs, lifetimeMs].filter((ms) => ms > 0).map((ms) => ms / 10);
    this.watchdog = setInterval(
      () => this.check(idleMs, lifetimeMs),
      Math.max(10, Math.min(LANE_CLOSE_MS / 2, ...periods)),
    );
    this.watchdog.unref();
  }

  private check(idleMs: number, lifetimeMs: number): void {
    const now = performance.now();
    let silence = false;
    for (const lane of [...this.lanes, ...this.draining])
      if (this.silentMs > 0 && lane.inFlight > 0 && now - lane.progressAt > this.silentMs && !lane.silent) {
        lane.silent = new Error("Query read timeout");
        // pg has no public way to drop a connection with statements out: end() waits for them.
        socketOf(lane).destroy();
        silence = true;
      }
    // The other lanes went through the same network: one with nothing out cannot show it is
    // dead (a NAT entry gone), so none is trusted; those with statements out drain, watched.
    for (const lane of [...this.lanes])
      if (silence || (lifetimeMs > 0 && now - lane.openedAt > lifetimeMs) || this.idle(lane, now, idleMs))
        void this.retire(lane);
    // pg's end() sends Terminate and a FIN and waits for the server to close: a connection the
    // network lost (a NAT entry gone) never does, and end() would wait for TCP to give up.
    for (const lane of this.draining)
      if (lane.inFlight === 0 && now - Math.max(lane.retiredAt ?? now, lane.progressAt) > LANE_CLOSE_MS)
        socketOf(lane).destroy();
  }

  /** Whether `lane` has been idle for idleTimeoutMillis and more lanes than the pool's `min` are open. */
  private idle(lane: Lane, now: number, idleMs: number): boolean {
    const min = this.options.min ?? 0;
    return idleMs > 0 && lane.inFlight === 0 && now - lane.progressAt > idleMs && this.lanes.length > min;
  }

  /**
   * Sends nothing more on `lane`, and ends its connection once what is on it is answered (the
   * watchdog still fails what stays unanswered); `lane.ended` settles when it has.
   */
  private retire(lane: Lane): Promise<void> {
    if (lane.closed) return lane.ended;
    lane.closed = true;
    lane.retiredAt = performance.now();
    this.lanes.splice(this.lanes.indexOf(lane), 1);
    this.draining.add(lane);
    lane.ended = (async () => {
      // pg's end() during connect() leaves the connect unsettled for ever, and with it what waits on it.
      await lane.ready.catch(() => undefined);
      await lane.client.end().catch(() => undefined);
      this.draining.delete(lane);
    })();
    return lane.ended;
  }
}

/** Whether connected `lane` has statements out and no answer for LANE_STALL_MS beyond its round trip. */
function stalled(lane: Lane, now: number): boolean {
  return lane.inFlight > 0 && now - lane.progressAt > LANE_STALL_MS + lane.roundTripMs;
}

/** Takes the time since `sentAt` of what `lane`'s server answered (a statement, its handshake). */
function answered(lane: Lane, sentAt: number): void {
  lane.roundTripMs = Math.min(lane.roundTripMs, performance.now() - sentAt);
}

/**
 * Holds what is written to `lane`'s socket until this turn of the event loop has run its I/O
 * callbacks (setImmediate): the statements its jobs send meanwhile go out in one write, and the
 * backend reads them at once. pg writes each statement on its own (a syscall, and on a local
 * socket the delivery and the backend's wakeup are paid in it), and a busy worker sends several
 * per turn: in the round-trip benchmark its lanes made 40% fewer writes (bench/README.md).
 */
function batchWrites(lane: Lane): void {
  const stream = socketOf(lane);
  if (lane.corked || typeof stream.cork !== "function") return; // a custom pg stream may not cork
  lane.corked = true;
  stream.cork();
  setImmediate(() => {
    lane.corked = false;
    stream.uncork();
  });
}

/** The socket pg's client of `lane` writes to (pg keeps it on its connection, unexposed). */
function socketOf(lane: Lane): Socket {
  return (lane.client as unknown as { connection: { stream: Socket } }).connection.stream;
}
