// A producer client of a benchmark's or soak's own deployment, on a pool of its own whose
// connections carry `appName` (so their Postgres backends can be told apart), silent.
import { createClient, type LayoverClient } from "@layover/runtime";
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
  const pool = new pg.Pool({ connectionString: withAppName(of.databaseUrl, of.appName), max: of.max });
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
