// How every Layover process connects: the default URLs, and Redis connections that log their
// outages rather than leaving ioredis to print "Unhandled error event" for each retry.
import { Redis } from "ioredis";
import pg from "pg";
import type { Logger } from "pino";
import { InvalidConfigError } from "./errors.ts";
import { PipelinedPool } from "./pipelined-pool.ts";
import { orLate } from "./within.ts";

/** A local Postgres with trust authentication, as in development. */
export const DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/postgres";
export const DEFAULT_REDIS_URL = "redis://127.0.0.1:6379";

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

const CONNECTION_CODES: ReadonlySet<unknown> = new Set([
  "ECONNREFUSED",
  "ECONNRESET",
  "ETIMEDOUT",
  "EPIPE",
  "ENOTFOUND",
  "EHOSTUNREACH",
  "ENETUNREACH",
  "EAI_AGAIN",
]);

/**
 * Whether a BullMQ or ioredis error only says Redis is unreachable: the connection's own
 * listener (reportRedisErrors) logs that once per outage, so handlers skip it rather than log
 * one line per reconnect attempt.
 */
export function isRedisConnectionError(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  return (
    CONNECTION_CODES.has((error as Error & { code?: unknown }).code) ||
    /Connection is closed|Stream isn't writeable|connect E[A-Z]+|^Socket timeout/.test(error.message)
  );
}

/**
 * How long a connection may wait for any byte of an answer before it is dropped and made again
 * (ioredis `socketTimeout`). A connection whose bytes a silent network lost (a NAT or conntrack
 * entry gone, a blackholed peer) never gets an answer, and TCP alone notices only after about
 * 15 minutes: meanwhile every command on it waits. Longer than BullMQ's longest blocking wait
 * for a job (10 s, and its own watchdog's second), which a worker's connection's duplicate
 * makes with these options.
 */
export const REDIS_SOCKET_TIMEOUT_MS = 15_000;

/**
 * The longest pause between two attempts to reconnect to Redis (plus up to 200 ms of jitter):
 * how late after Redis is back a process notices. ioredis's default doubles up to 5 s.
 */
export const REDIS_RECONNECT_MAX_MS = 1_000;

/**
 * How often a connection asks PING while it is up: a connection on which nothing else is sent (a
 * subscriber waiting for messages) has an answer to wait for, and is found silent after
 * REDIS_SOCKET_TIMEOUT_MS like any other instead of never. An answer other than PONG means the
 * connection pairs answers with the wrong commands (bytes lost on a connection that came back):
 * it is dropped at once, and ioredis sends the commands still unanswered again on a new one.
 */
export const REDIS_PING_EVERY_MS = 5_000;

/** PONG, as RESP3 says it (and RESP2 outside subscriber mode), or RESP2's `["pong", ""]` to a subscriber. */
function isPong(answer: unknown): boolean {
  const said = Array.isArray(answer) ? answer[0] : answer;
  return typeof said === "string" && said.toUpperCase() === "PONG";
}

/** PINGs `redis` every REDIS_PING_EVERY_MS while it is ready, one at a time, until it ends. */
function pingWhileUp(redis: Redis, logger: Logger, what: string): void {
  let asking = false;
  const timer = setInterval(() => {
    if (asking || redis.status !== "ready") return;
    asking = true;
    redis
      .ping()
      .then((answer: unknown) => {
        if (isPong(answer) || redis.status !== "ready") return;
        logger.warn({ connection: what }, "Redis answered PING with another command's answer; reconnecting");
        redis.disconnect(true);
      })
      .catch(() => undefined) // the connection's listener reports the outage
      .finally(() => {
        asking = false;
      });
  }, REDIS_PING_EVERY_MS);
  timer.unref();
  redis.once("end", () => clearInterval(timer));
}

/** Jittered doubling from 50 ms, at most REDIS_RECONNECT_MAX_MS (ioredis's `retryStrategy`). */
function reconnectPause(times: number): number {
  return Math.min(50 * 2 ** (times - 1), REDIS_RECONNECT_MAX_MS) + Math.floor(Math.random() * 200);
}

/**
 * A Redis connection as BullMQ needs it (commands wait through reconnects: no
 * `maxRetriesPerRequest`), named `what` in the logs of its outages, dropped and made again when
 * an answer stops coming (REDIS_SOCKET_TIMEOUT_MS; asked PING every REDIS_PING_EVERY_MS, so a
 * subscriber has one to wait for), trying again at least every
 * REDIS_RECONNECT_MAX_MS while Redis is away. Given an existing connection, a duplicate of it
 * with its options (a subscriber, or a BullMQ worker's blocking connection): a connection a
 * producer gave keeps the timeouts and retries it was given.
 */
export function connectRedis(from: string | Redis | undefined, logger: Logger, what: string): Redis {
  const redis =
    typeof from === "object"
      ? from.duplicate({ maxRetriesPerRequest: null })
      : new Redis(from ?? DEFAULT_REDIS_URL, {
          maxRetriesPerRequest: null,
          socketTimeout: REDIS_SOCKET_TIMEOUT_MS,
          retryStrategy: reconnectPause,
        });
  pingWhileUp(redis, logger, what);
  return reportRedisErrors(redis, logger, what);
}

/** How long a service's start waits for Redis to answer before the start fails. */
export const REDIS_START_WAIT_MS = 20_000;

/**
 * Waits until `redis` answers a PING; fails after `ms`, naming where it looked (password left
 * out), so a service pointed at the wrong Redis exits with the reason instead of retrying in
 * silence. Given a logger, then says there if Redis may evict BullMQ's keys (evictionRisk).
 */
export async function requireRedis(redis: Redis, ms = REDIS_START_WAIT_MS, logger?: Logger): Promise<void> {
  const { host, port, path, db } = redis.options;
  const where = path ? path : `${host}:${port}`;
  try {
    await orLate(redis.ping(), ms, "Redis PING");
  } catch (error) {
    throw new InvalidConfigError(
      `Redis at ${where} did not answer within ${ms / 1000} s. Check REDIS_URL and that Redis is running.`,
      { cause: error },
    );
  }
  // ioredis goes on in database 0 when its SELECT is refused: BullMQ's keys would go there.
  if (db !== undefined && db !== 0)
    await orLate(redis.select(db), ms, "Redis SELECT").catch((error: unknown) => {
      throw new InvalidConfigError(
        `REDIS_URL names database ${db}, which Redis at ${where} refused (${(error as Error).message}): name one it has (its "databases" setting), or none for 0.`,
        { cause: error },
      );
    });
  if (logger !== undefined) await reportEvictionRisk(redis, logger);
}

/**
 * What Redis's `INFO memory` (`info`) says is wrong for BullMQ, or undefined: a maxmemory-policy
 * other than noeviction lets Redis delete keys once it reaches maxmemory, BullMQ's among them
 * (jobs, their locks, the schedules). Postgres keeps every run, and reconciliation enqueues a run
 * whose job went, but a lock or a schedule gone breaks the queue in ways it cannot see.
 */
export function evictionRisk(info: string): { level: "warn" | "error"; message: string } | undefined {
  const field = (name: string) => new RegExp(`^${name}:(.*)$`, "m").exec(info)?.[1]?.trim();
  const policy = field("maxmemory_policy");
  if (policy === undefined || policy === "noeviction") return undefined;
  const maxmemory = Number(field("maxmemory") ?? 0);
  const fix = "set maxmemory-policy noeviction (redis.conf, or your provider's parameter group)";
  return maxmemory > 0
    ? {
        level: "error",
        message: `Redis's maxmemory-policy is ${policy} with maxmemory ${maxmemory} bytes: once full, Redis deletes BullMQ's keys (jobs, locks, schedules); ${fix}.`,
      }
    : {
        level: "warn",
        message: `Redis's maxmemory-policy is ${policy}: once a maxmemory is set, Redis will delete BullMQ's keys when full; ${fix}.`,
      };
}

/** Logs evictionRisk of `redis`; a Redis that does not tell (INFO disabled, as some providers do) is left alone. */
async function reportEvictionRisk(redis: Redis, logger: Logger): Promise<void> {
  const info = await orLate(redis.info("memory"), 2_000, "Redis INFO").catch(() => undefined);
  const risk = info === undefined ? undefined : evictionRisk(info);
  if (risk !== undefined) logger[risk.level](risk.message);
}

/** How long a statement may go unanswered before the call fails (and its connection is dropped). */
export const DEFAULT_QUERY_TIMEOUT_MS = 60_000;

/**
 * Why `timeouts` cannot work together, named as `names` says, or undefined: a statement timeout
 * not shorter than the query timeout. While a statement timeout is set, a statement unanswered
 * for the query timeout is taken as lost to the network (the server would have ended it first);
 * one that is only slow would be taken so while the server may still commit it.
 */
export function timeoutsProblem(
  timeouts: PostgresTimeouts,
  names = { query: "queryTimeoutMs", statement: "statementTimeoutMs" },
): string | undefined {
  const query = timeouts.queryTimeoutMs ?? DEFAULT_QUERY_TIMEOUT_MS;
  const statement = timeouts.statementTimeoutMs;
  if (query === 0 || statement === undefined || statement === 0 || statement < query) return undefined;
  return `${names.statement} (${statement} ms) must be shorter than ${names.query} (${query} ms): a statement the server is still running would be taken as lost to the network. Leave ${names.statement} out for 90% of ${names.query}`;
}

/** How a pool notices a silent server; see connectPostgres. */
export interface PostgresTimeouts {
  /** A statement unanswered this long fails its call; 0 waits forever. @defaultValue 60000 */
  queryTimeoutMs?: number;
  /**
   * The server cancels a statement after this long (Postgres's `statement_timeout`, sent when
   * the connection opens), so one the caller gave up on does not commit later; 0 does not send
   * it — needed behind PgBouncer, which refuses the parameter unless `ignore_startup_parameters`
   * lists it. @defaultValue 90% of queryTimeoutMs
   *
   * It bounds idle transactions too (`idle_in_transaction_session_timeout`, twice it, sent with
   * it): a process stopped mid-transaction (frozen by its host, starved, a long GC pause) would
   * otherwise hold the transaction's locks — the threads a sweep claimed — for as long as it
   * stays stopped; the server ends its session instead. Twice, as a transaction may wait on
   * another statement of its own process (a cron's tick starts its run on another connection).
   */
  statementTimeoutMs?: number;
}

/**
 * A Postgres pool for `url` (default: DEFAULT_DATABASE_URL) that notices a silent server: a
 * connection attempt fails after 10 s, idle connections send TCP keepalives, and a statement
 * unanswered for `queryTimeoutMs` fails its call, so a job fails over to BullMQ's retry instead
 * of holding its thread through a network partition (TCP alone waits about 15 minutes). 0
 * waits forever: migrations, which may wait for another process's lock. With `lanes`, a
 * PipelinedPool: single statements go out pipelined on that many connections (with the same
 * settings), transactions on the pool's.
 */
export function connectPostgres(
  url: string | undefined,
  max?: number,
  timeouts: PostgresTimeouts = {},
  lanes = 0,
): pg.Pool {
  const queryTimeoutMs = timeouts.queryTimeoutMs ?? DEFAULT_QUERY_TIMEOUT_MS;
  const statementTimeoutMs = timeouts.statementTimeoutMs ?? Math.floor(queryTimeoutMs * 0.9);
  const config: pg.PoolConfig = {
    connectionString: url ?? DEFAULT_DATABASE_URL,
    ...(max === undefined ? {} : { max }),
    connectionTimeoutMillis: 10_000,
    keepAlive: true,
    keepAliveInitialDelayMillis: 10_000,
    ...(queryTimeoutMs > 0 ? { query_timeout: queryTimeoutMs } : {}),
    ...(statementTimeoutMs > 0
      ? { statement_timeout: statementTimeoutMs, idle_in_transaction_session_timeout: 2 * statementTimeoutMs }
      : {}),
  };
  return lanes > 0 ? new PipelinedPool(config, lanes) : new pg.Pool(config);
}

/** A service's pools: `pool` for its own statements, `storePool` for the long-term store's and node cache's. */
export interface ServicePools {
  pool: pg.Pool;
  storePool: pg.Pool;
  /** Ends both. */
  end(): Promise<void>;
}

/**
 * The pools a worker or a producer client builds for `url` (see connectPostgres): with `lanes`,
 * its own statements go out pipelined on a PipelinedPool, and the store's and the node cache's
 * on a plain pool beside it, as a semantic search may take a while and would delay what waits
 * behind it on a lane. Without, one pool serves both. Either opens connections only as they are
 * used.
 */
export function connectPostgresPools(
  url: string | undefined,
  max: number | undefined,
  timeouts: PostgresTimeouts | undefined,
  lanes: number,
): ServicePools {
  const pool = connectPostgres(url, max, timeouts, lanes);
  const storePool = lanes > 0 ? connectPostgres(url, max, timeouts) : pool;
  return {
    pool,
    storePool,
    end: async () => {
      await pool.end();
      if (storePool !== pool) await storePool.end();
    },
  };
}

/**
 * Runs `fn` on a pool of one connection without a statement timeout, then closes it: for
 * migrations, which may wait on another process's migration lock.
 */
export async function withMigrationPool<T>(
  url: string | undefined,
  fn: (pool: pg.Pool) => Promise<T>,
): Promise<T> {
  const pool = connectPostgres(url, 1, { queryTimeoutMs: 0, statementTimeoutMs: 0 });
  try {
    return await fn(pool);
  } finally {
    await pool.end();
  }
}
