// A pg pool whose single statements go out pipelined on a few connections ("lanes"), each sent
// without waiting for the answers before it, while transactions still take a pooled connection
// of their own. Every statement a worker's jobs send is one autocommit statement: on a pool, each
// takes a connection, so eight jobs keep eight Postgres backends in play, each woken for one
// statement at a time. On two lanes, the backend that is awake finds the next statement waiting
// and no other backend wakes: the same statements cost Postgres less CPU (bench/README.md).
import pg from "pg";
import { InvalidConfigError } from "./errors.ts";
import { shown } from "./keys.ts";

/** The lanes a worker's or a producer client's own pool pipelines on. */
export const DEFAULT_POSTGRES_LANES = 2;

/** The most lanes a pool may have: each is a Postgres connection held for the process's life. */
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

/** How many statements one lane holds before a statement takes a pooled connection instead. */
export const LANE_DEPTH = 8;

/**
 * A lane that has answered nothing for this long while it has statements out is stalled (its
 * first statement waits on a lock, or is slow): it takes no more until it answers again.
 */
export const LANE_STALL_MS = 20;

interface Lane {
  client: pg.Client;
  ready: Promise<void>;
  /** Statements sent on it (or waiting for it to connect) and not yet answered. */
  inFlight: number;
  /** When it last answered a statement, or was sent one while it had none out. */
  progressAt: number;
  /** Its connection failed or ended: no statement is sent on it again. */
  closed: boolean;
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
 * them. What bounds that: a lane that has answered nothing for LANE_STALL_MS takes no statement
 * until it answers, nor does one holding LANE_DEPTH; when no lane may take a statement, it takes
 * a pooled connection, as do a callback-style query and a cursor (it keeps a portal open). At
 * worst, the statements sent on a lane before it stalled wait with the one it waits on.
 */
export class PipelinedPool extends pg.Pool {
  private readonly laneConfig: pg.ClientConfig;
  private readonly laneCount: number;
  private readonly lanes: Lane[] = [];
  private closing = false;

  constructor(config: pg.PoolConfig, lanes: number) {
    checkPostgresLanes("PipelinedPool", lanes);
    if (lanes === 0)
      throw new InvalidConfigError("PipelinedPool: lanes must be at least 1 (a plain pg.Pool has none).");
    super(config);
    this.laneConfig = { ...config, pipeline: true } as pg.ClientConfig;
    this.laneCount = lanes;
    this.query = ((...args: unknown[]) => this.pipelined(args)) as pg.Pool["query"];
  }

  /** Connections the lanes hold now (for metrics and tests); the pool's own are `totalCount`. */
  get laneConnections(): number {
    return this.lanes.length;
  }

  override async end(): Promise<void> {
    this.closing = true;
    await Promise.all([...this.lanes].map((lane) => this.retire(lane)));
    return super.end();
  }

  private pipelined(args: unknown[]): unknown {
    const lane = this.closing || !pipelinable(args) ? undefined : this.laneFor();
    if (lane === undefined) return (super.query as AnyQuery).apply(this, args);
    return this.onLane(lane, args);
  }

  private async onLane(lane: Lane, args: unknown[]): Promise<unknown> {
    if (lane.inFlight === 0) lane.progressAt = performance.now();
    lane.inFlight += 1;
    try {
      await lane.ready;
      return await (lane.client.query as AnyQuery).apply(lane.client, args);
    } catch (error) {
      // A statement's own failure leaves its connection as it was; any other (the server ended
      // the session, the socket failed, no answer in time) retires the lane before another
      // statement is sent on it, though its 'end' may come later.
      if ((error as { severity?: unknown } | null)?.severity !== "ERROR") void this.retire(lane);
      throw error;
    } finally {
      lane.inFlight -= 1;
      lane.progressAt = performance.now();
    }
  }

  /**
   * The least busy lane that may take a statement; a new one while there are fewer than asked
   * and none is idle; none (a pooled connection) when every lane is stalled or full.
   */
  private laneFor(): Lane | undefined {
    const now = performance.now();
    let best: Lane | undefined;
    for (const lane of this.lanes) {
      const stalled = lane.inFlight > 0 && now - lane.progressAt > LANE_STALL_MS;
      if (stalled || lane.inFlight >= LANE_DEPTH) continue;
      if (best === undefined || lane.inFlight < best.inFlight) best = lane;
    }
    if ((best === undefined || best.inFlight > 0) && this.lanes.length < this.laneCount) return this.open();
    return best;
  }

  private open(): Lane {
    const client = new pg.Client(this.laneConfig);
    const lane: Lane = { client, ready: Promise.resolve(), inFlight: 0, progressAt: 0, closed: false };
    // The statements on a failed connection get its error; the event itself must not crash the process.
    client.on("error", () => void this.retire(lane));
    client.on("end", () => void this.retire(lane));
    lane.ready = client.connect().then(
      () => undefined,
      (error: unknown) => {
        void this.retire(lane);
        throw error;
      },
    );
    this.lanes.push(lane);
    return lane;
  }

  /** Sends nothing more on `lane`, and ends its connection once what is on it is answered. */
  private async retire(lane: Lane): Promise<void> {
    if (lane.closed) return;
    lane.closed = true;
    this.lanes.splice(this.lanes.indexOf(lane), 1);
    await lane.client.end().catch(() => undefined);
  }
}

/** Whether a query may be pipelined: promise-style, and not a cursor (it keeps a portal open). */
function pipelinable(args: unknown[]): boolean {
  const [config] = args;
  if (args.some((arg) => typeof arg === "function")) return false;
  return typeof (config as { submit?: unknown }).submit !== "function";
}
