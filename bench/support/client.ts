// A producer client of a benchmark's or soak's own deployment, on a pool of its own (pipelined, as
// createClient's) whose connections carry `appName` (so their Postgres backends can be told apart), silent.
import { createClient, DEFAULT_POSTGRES_LANES, type LayoverClient, PipelinedPool } from "@layover/runtime";
import { Redis } from "ioredis";
import pg from "pg";
import pino from "pino";
import { withAppName } from "./cpu.ts";

export interface ClientOf {
  databaseUrl: string;
  redisUrl: string;
  schema: string;
  prefix: string;
  appName: string;
  /** The pool's size. */
  max: number;
  identity?: string;
}

/** The client and what closes it (the client, then its Redis connection and its pool). */
export function benchClient(of: ClientOf): { client: LayoverClient; close: () => Promise<void> } {
  const config = { connectionString: withAppName(of.databaseUrl, of.appName), max: of.max };
  // As createClient's own pool: its statements pipelined (BENCH_CLIENT_LANES=0: a plain pool, for A/B).
  const lanes = Number(process.env.BENCH_CLIENT_LANES ?? DEFAULT_POSTGRES_LANES);
  const pool = lanes > 0 ? new PipelinedPool(config, lanes) : new pg.Pool(config);
  const connection = new Redis(of.redisUrl, { maxRetriesPerRequest: null });
  const client = createClient({
    pool,
    connection,
    schema: of.schema,
    prefix: of.prefix,
    ...(of.identity !== undefined ? { identity: of.identity } : {}),
    logger: pino({ level: "silent" }),
  });
  const close = async () => {
    await client.close();
    connection.disconnect();
    await pool.end();
  };
  return { client, close };
}
