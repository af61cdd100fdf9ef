export { dockerIsReachable } from "./docker.ts";
export {
  getPostgres,
  LOCAL_POSTGRES_URL,
  POSTGRES_IMAGE,
  postgresAnswers,
  type ResolvedServer,
  resolvePostgres,
} from "./postgres.ts";
export {
  deleteRedisPrefix,
  getRedis,
  LOCAL_REDIS_URL,
  REDIS_IMAGE,
  redisAnswers,
  resolveRedis,
  uniqueRedisPrefix,
} from "./redis.ts";
export { type Deployment, serviceEnv } from "./service-env.ts";
export { tcpProxy } from "./tcp-proxy.ts";
export { createTestSchema, type TestSchema, uniqueSchemaName } from "./test-schema.ts";
