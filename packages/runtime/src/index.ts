export { jsonbIssue, jsonbProblem, type UnstorableText, unstorableText } from "@layover/checkpoint";
export { checkStoreIndex } from "./client/client-options.ts";
export type { ContinueOptions } from "./client/continue-thread.ts";
export { type ClientOptions, createClient, type LayoverClient } from "./client/create-client.ts";
export type { DeletedThread } from "./client/delete-thread.ts";
export type { PrunedThreads, PruneThreadsOptions } from "./client/prune-threads.ts";
export type { PendingInterrupt, RunResult, ThreadState } from "./client/read.ts";
export type { ReconcileOptions, Requeued } from "./client/reconcile.ts";
export { reconcileRuns } from "./client/reconcile.ts";
export type { ResumeOptions } from "./client/resume.ts";
export { knownRunConfig, type RunOptions } from "./client/run-config.ts";
export type { StartRunArgs } from "./client/start-run.ts";
export { startRun } from "./client/start-run.ts";
export type { RunStream, RunStreamEvent, RunStreamPart, StreamRunOptions } from "./client/stream-run.ts";
export type { InterruptWatch, WatchedInterrupt, WatchInterruptsOptions } from "./client/watch-interrupts.ts";
export {
  connectPostgres,
  connectPostgresPools,
  connectRedis,
  DEFAULT_DATABASE_URL,
  DEFAULT_QUERY_TIMEOUT_MS,
  DEFAULT_REDIS_URL,
  isRedisConnectionError,
  type PostgresTimeouts,
  REDIS_START_WAIT_MS,
  reportRedisErrors,
  requireRedis,
  type ServicePools,
  withMigrationPool,
} from "./connections.ts";
export {
  CRON_SETTINGS,
  type CronRow,
  type CronSpec,
  type CronsApi,
  CronTick,
  cronSchedulerId,
  cronsApi,
  SCHEDULER_QUEUE,
} from "./crons.ts";
export { checkSchemaName, createDb, type Db, inTransaction, type Queryable } from "./db.ts";
export {
  createDispatcher,
  DEFAULT_MAX_REDIS_BACKLOG,
  type Dispatcher,
  type JobLock,
  RedisBacklogError,
  STEP_JOB_OPTIONS,
} from "./dispatch.ts";
export {
  type CallPart,
  ClientClosedError,
  IdempotencyKeyReusedError,
  InterruptAlreadyResolvedError,
  InvalidConfigError,
  PostgresUnavailableError,
  RunNotFoundError,
  type RuntimeErrorCode,
  ThreadBusyError,
  ThreadNotFoundError,
  UnknownGraphError,
  WaitTimeoutError,
} from "./errors.ts";
export {
  parseRunEvent,
  RunEvent,
  RunEventResult,
  runCancelsChannel,
  runEventsChannel,
  STEP_QUEUE,
  StepJob,
  stepJobId,
} from "./jobs.ts";
export { hasControlCharacter, textProblem } from "./keys.ts";
export { createLogger, PAYLOAD_PATHS, redactedError } from "./logger.ts";
export { logWorkerErrors, lostLockError } from "./lost-lock.ts";
export { createMetrics, type Metrics } from "./metrics.ts";
export { migrateRuntime } from "./migrate.ts";
export {
  checkPostgresLanes,
  DEFAULT_POSTGRES_LANES,
  LANE_DEPTH,
  MAX_POSTGRES_LANES,
  PipelinedPool,
} from "./pipelined-pool.ts";
export {
  isPostgresDown,
  OUTAGE_FIRST_CHECK_MS,
  OUTAGE_MAX_CHECK_MS,
  type OutageGate,
  postgresOutageGate,
} from "./postgres-outage.ts";
export { POSTGRES_START_WAIT_MS, postgresWhere, requirePostgres } from "./require-postgres.ts";
export { type RecordedResume, recordResume } from "./resume-transition.ts";
export { checkpointState, decodeRunResult, encodeRunResult } from "./run-result.ts";
export {
  decodeStreamChunk,
  encodeStreamChunk,
  RUN_STREAM_END,
  RUN_STREAM_MAX_CHUNK_BYTES,
  type RunStreamEntry,
  type RunStreamMode,
  runStreamKey,
  runStreamModes,
} from "./run-stream.ts";
export {
  finishInPut,
  finishRun,
  type JobRun,
  markRunning,
  parkInPut,
  parkRun,
  progressInPut,
  readJobRun,
  readJobRunWithHead,
  recordedByPut,
  recordProgress,
  refuseResume,
  releaseCancelled,
  releaseThread,
  type Settled,
  settledByPut,
} from "./run-transitions.ts";
export {
  JobLockEnv,
  MAX_TIMER_MS,
  main,
  parseEnv,
  postgresTimeouts,
  runUntilSignalled,
  ServiceEnv,
  timerMs,
  whyItFailed,
} from "./service.ts";
export {
  checkServiceOptions,
  checkTimeouts,
  count,
  type OptionRules,
  timer,
  type WholeNumber,
} from "./service-options.ts";
export { claimDueThreadsQuery, dueInterruptsQuery, expireClaimedQuery } from "./sql/expire-due-interrupts.ts";
export { type GraphInfo, type GraphVersion, listGraphs, registerGraph } from "./sql/graphs.ts";
export { FEED_START, type FeedPosition, readFeed, rebaseFeed } from "./sql/interrupt-feed.ts";
export {
  type InterruptRow,
  type InterruptStatus,
  LISTED,
  listInterrupts,
  type NewInterrupt,
} from "./sql/interrupts.ts";
export {
  activeRuns,
  getRun,
  getRunWithPending,
  type RunConfig,
  type RunRow,
  type RunStatus,
} from "./sql/runs.ts";
export { getThread, lockThread, type ThreadRow, type ThreadStatus } from "./sql/threads.ts";
export {
  metricsPortOf,
  PROBE_TIMEOUT_MS,
  type Probe,
  type Readiness,
  type ReadinessReport,
  type ServiceState,
  serveMetrics,
  serviceProbes,
  startServing,
} from "./status-server.ts";
export { type SweepOptions, sweepExpiredInterrupts } from "./sweep.ts";
export { holdsThreadGuard } from "./thread-fence.ts";
export { SERVICE_ONLY_ENV, type ServiceName, unreadEnvWarnings } from "./unread-env.ts";
export { isUuid } from "./uuid.ts";
export { orLate, REDIS_WAIT_MS } from "./within.ts";
