// The environment a Layover service process (layover-worker, layover-scheduler, a demo) reads
// its deployment from: tests, demos and benchmarks spawn them against their own schema and prefix.

export interface Deployment {
  databaseUrl: string;
  redisUrl: string;
  /** Postgres schema of the deployment's tables (LAYOVER_SCHEMA). */
  schema: string;
  /** BullMQ key prefix (LAYOVER_PREFIX). */
  prefix: string;
}

/**
 * This process's environment with the deployment's DATABASE_URL, REDIS_URL, LAYOVER_SCHEMA and
 * LAYOVER_PREFIX, plus `extra` (WORKER_ID, LOG_LEVEL, …): what a spawned service process gets.
 */
export function serviceEnv(deployment: Deployment, extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  return {
    ...process.env,
    DATABASE_URL: deployment.databaseUrl,
    REDIS_URL: deployment.redisUrl,
    LAYOVER_SCHEMA: deployment.schema,
    LAYOVER_PREFIX: deployment.prefix,
    ...extra,
  };
}
