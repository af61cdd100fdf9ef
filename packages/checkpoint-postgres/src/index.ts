export type { PostgresCacheOptions } from "./cache-options.ts";
export {
  classifyFailure,
  type FailureClass,
  isPostgresSaverError,
  isQueryTimeout,
  PostgresSaverError,
  type PostgresSaverErrorCode,
} from "./errors.ts";
export { type BeforeCommit, GuardedSaver, type OnStored } from "./guarded-saver.ts";
export {
  loadMigrations,
  type MigrateOptions,
  type MigrateResult,
  type Migration,
  migrate,
  migrationLockKey,
  type RunMigrationsOptions,
  runMigrations,
} from "./migrate.ts";
export { PostgresCache } from "./postgres-cache.ts";
export { PostgresSaver } from "./postgres-saver.ts";
export { PostgresStore } from "./postgres-store.ts";
export type { DeletedRows, PruneResult, PruneSelector, PruneStrategy } from "./prune.ts";
export type { PutGuard } from "./put-guard.ts";
export type { PutThen } from "./put-then.ts";
export type { FoundAlong, ReadAlong } from "./read-along.ts";
export { type BatchRead, ReadBatcher, type ReadBatcherOptions } from "./read-batcher.ts";
export type { RetryOptions } from "./retry.ts";
export type { ListDeltaOptions, PostgresSaverOptions } from "./saver-options.ts";
export { DEFAULT_SCHEMA, statementName } from "./schema-name.ts";
export type { PostgresStoreOptions } from "./store-options.ts";
export { inTransaction } from "./transaction.ts";
