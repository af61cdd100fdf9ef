import { type CheckpointSaver, checkIndexConfig, type IndexConfig } from "@layover/checkpoint";
import type { Redis } from "ioredis";
import type pg from "pg";
import type { Logger } from "pino";
import type { PostgresTimeouts } from "../connections.ts";
import { DEFAULT_MAX_REDIS_BACKLOG } from "../dispatch.ts";
import { InvalidConfigError } from "../errors.ts";
import { MAX_KEY_BYTES, prefixProblem, shown, textProblem, unknownKeysProblem } from "../keys.ts";
import { checkPostgresLanes } from "../pipelined-pool.ts";
import { checkTimeouts } from "../service-options.ts";

export type ClientOptions = (
  | {
      databaseUrl?: string;
      redisUrl?: string;
      /** For the pool built from databaseUrl (see connectPostgres; 0 statement timeout behind PgBouncer). */
      timeouts?: PostgresTimeouts;
      /**
       * Connections on which the client's statements go out pipelined (see PipelinedPool); the
       * store's go on a plain pool beside them. 0: one plain pool for everything (behind a
       * connection pooler such as PgBouncer, which pools connections itself).
       * @defaultValue 2
       */
      postgresLanes?: number;
      pool?: undefined;
      connection?: undefined;
    }
  | {
      /** Yours, for everything (a PipelinedPool pipelines the store's statements too). */
      pool: pg.Pool;
      connection: Redis;
      databaseUrl?: undefined;
      redisUrl?: undefined;
      timeouts?: undefined;
      postgresLanes?: undefined;
    }
) & {
  /** Postgres schema of Layover's tables. @defaultValue "layover" */
  schema?: string;
  /** BullMQ key prefix (one per deployment). @defaultValue "layover" */
  prefix?: string;
  /** Recorded as `resolved_by` on the interrupts this client resolves. @defaultValue "client" */
  identity?: string;
  /**
   * Semantic search in `client.store`: the index the deployment's workers were given
   * (createWorker's storeIndex), so what this client puts is embedded as theirs is and its
   * searches may have a query. @defaultValue none
   */
  storeIndex?: IndexConfig;
  logger?: Logger;
  /** @defaultValue a PostgresSaver on the same pool and schema */
  saver?: CheckpointSaver;
  /**
   * The most of this client's commands to Redis (step jobs, run events) left waiting while Redis
   * is away, each holding its job's data until Redis is back: calls beyond it do not send theirs,
   * and reconciliation enqueues their runs, so a producer's memory stays bounded through a long
   * outage. @defaultValue 10000
   */
  maxRedisBacklog?: number;
};

/**
 * Refuses options createClient could not honour, before it opens a connection (a refusal after
 * would leave one open, with no client to close it): a key it does not take, a pool without a connection or the reverse
 * (the client closes only the connections it opened, so it would leave its own open or close the
 * caller's), an identity Postgres cannot record, an empty prefix, a timeout no timer can wait, a
 * backlog that is not a count.
 */
const CLIENT_OPTIONS = [
  "databaseUrl",
  "redisUrl",
  "timeouts",
  "postgresLanes",
  "pool",
  "connection",
  "schema",
  "prefix",
  "identity",
  "storeIndex",
  "logger",
  "saver",
  "maxRedisBacklog",
] as const;

export function checkClientOptions(options: ClientOptions): void {
  // A misspelt databaseUrl went to the default, a local Postgres: another deployment's, perhaps.
  const unknown = unknownKeysProblem("createClient", options, CLIENT_OPTIONS);
  if (unknown !== undefined) throw new InvalidConfigError(unknown);
  if ((options.pool === undefined) !== (options.connection === undefined))
    throw new InvalidConfigError(
      `createClient: pass pool and connection together (yours, left open by close()), or neither (then databaseUrl and redisUrl); got only a ${options.pool === undefined ? "connection" : "pool"}.`,
    );
  const identity = options.identity === undefined ? undefined : textProblem(options.identity, MAX_KEY_BYTES);
  if (identity !== undefined)
    throw new InvalidConfigError(
      `createClient: identity must be ${identity}, or left out for "client"; got ${shown(options.identity)}.`,
    );
  const prefix = options.prefix === undefined ? undefined : prefixProblem(options.prefix);
  if (prefix !== undefined)
    throw new InvalidConfigError(
      `createClient: prefix (one per deployment) must be ${prefix}, or left out for "layover"; got ${shown(options.prefix)}.`,
    );
  checkPostgresLanes("createClient", options.postgresLanes);
  const backlog = options.maxRedisBacklog;
  if (backlog !== undefined && !(Number.isSafeInteger(backlog) && backlog >= 1))
    throw new InvalidConfigError(
      `createClient: maxRedisBacklog must be a whole number of commands from 1, or left out for ${DEFAULT_MAX_REDIS_BACKLOG}; got ${shown(backlog)}.`,
    );
  checkTimeouts("createClient", options.timeouts);
  checkStoreIndex("createClient", options.storeIndex);
}

/** Refuses a store index the store could not embed with, as InvalidConfigError saying who was given it. */
export function checkStoreIndex(who: string, index: unknown): void {
  if (index === undefined) return;
  try {
    checkIndexConfig(index, "PostgresStore");
  } catch (error) {
    throw new InvalidConfigError(`${who}: storeIndex: ${(error as Error).message}`);
  }
}
