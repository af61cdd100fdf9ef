import { PostgresCache, PostgresSaver, PostgresStore } from "@layover/checkpoint-postgres";
import { cacheNamespace, InvalidInputError } from "@layover/graph";
import pino from "pino";
import { connectPostgresPools, connectRedis } from "../connections.ts";
import { type CronSpec, cronsApi } from "../crons.ts";
import { createDb, type Db } from "../db.ts";
import { createDispatcher } from "../dispatch.ts";
import { ClientClosedError, UnknownGraphError } from "../errors.ts";
import { isStorableId, shown } from "../keys.ts";
import { DEFAULT_POSTGRES_LANES } from "../pipelined-pool.ts";
import { getGraph, listGraphIds, listGraphs } from "../sql/graphs.ts";
import type { ListInterruptsQuery } from "../sql/interrupts.ts";
import { threadRuns } from "../sql/runs.ts";
import { cancelRun } from "./cancel.ts";
import { type ClientOptions, checkClientOptions } from "./client-options.ts";
import type { ClientContext } from "./context.ts";
import { type ContinueOptions, continueThread } from "./continue-thread.ts";
import { deleteThread } from "./delete-thread.ts";
import { LIST_QUERY_KEYS, listInterruptsPage } from "./list-interrupts.ts";
import { knownKeys, objectArg, optionsArg } from "./object-arg.ts";
import { PRUNE_OPTIONS, type PruneThreadsOptions, pruneThreads } from "./prune-threads.ts";
import {
  type HistoryOptions,
  readRunResult,
  readThread,
  requireRun,
  runInfo,
  threadHistory,
} from "./read.ts";
import { RECONCILE_OPTIONS, type ReconcileOptions, reconcileRuns } from "./reconcile.ts";
import { type ResumeOptions, resumeThread } from "./resume.ts";
import { RunEventHub } from "./run-events.ts";
import { SeenPending } from "./seen-pending.ts";
import { checkInput, type StartRunArgs, startRun } from "./start-run.ts";
import { StreamReaders } from "./stream-readers.ts";
import { STREAM_OPTIONS, type StreamRunOptions, streamRun } from "./stream-run.ts";
import { withTypedFailures } from "./typed-failures.ts";
import { waitForRun } from "./wait.ts";
import { WATCH_OPTIONS, type WatchInterruptsOptions, watchInterrupts } from "./watch-interrupts.ts";

export type { ClientOptions } from "./client-options.ts";

/** runs.*: start, wait, stream, read and cancel runs. */
function runsApi(ctx: ClientContext, hub: RunEventHub, redis: { readers: StreamReaders; prefix: string }) {
  return {
    start: async (args: StartRunArgs) =>
      startRun(ctx, objectArg(args, "runs.start's argument", "{ graphId, input }", true)),
    // The client's close ends a wait in flight (ClientClosedError), as it ends streams and watches.
    wait: async (runId: string, waitOptions?: { timeoutMs?: number }) =>
      waitForRun(
        ctx,
        hub,
        runId,
        optionsArg(waitOptions, "runs.wait's options", "{ timeoutMs: 5000 }", ["timeoutMs"]),
        redis.readers.closing,
      ),
    /**
     * What the run reports as it runs (the modes its start's `config.streamMode` or its resume's
     * `streamMode` asked for), then an "end" part with what `wait` resolves to: an async iterator.
     */
    stream: (runId: string, streamOptions?: StreamRunOptions) =>
      streamRun(
        ctx,
        hub,
        redis,
        runId,
        optionsArg(streamOptions, "runs.stream's options", '{ lastEventId: "0" }', STREAM_OPTIONS),
      ),
    /** A run's result and bookkeeping: kind, timings, and which workers ran, parked and finished it. */
    get: async (runId: string) => {
      const found = await requireRun(ctx, runId);
      return { ...(await readRunResult(ctx, found)), ...runInfo(found.run) };
    },
    cancel: (runId: string) => cancelRun(ctx, runId),
  };
}

/** threads.*: answer, continue, read and delete threads. */
function threadsApi(ctx: ClientContext) {
  const { db } = ctx;
  return {
    resume: async (threadId: string, value: unknown, resumeOptions?: ResumeOptions) =>
      resumeThread(
        ctx,
        threadId,
        value,
        objectArg(resumeOptions, "threads.resume's options", "{ idempotencyKey }"),
      ),
    /**
     * Continues a thread parked at a static breakpoint (interruptBefore / interruptAfter), with
     * an optional state update (the edit of a tool call before its tools run).
     */
    continue: (threadId: string, continueOptions?: ContinueOptions) =>
      continueThread(
        ctx,
        threadId,
        objectArg(continueOptions, "threads.continue's options", '{ streamMode: "updates" }'),
      ),
    get: (threadId: string) => readThread(ctx, threadId),
    history: (threadId: string, historyOptions?: HistoryOptions) =>
      threadHistory(ctx, threadId, historyOptions),
    /** The thread's runs, oldest first, with which workers ran, parked and finished each. */
    runs: async (threadId: string) =>
      isStorableId(threadId) ? (await threadRuns(db, threadId)).map(runInfo) : [],
    /**
     * Deletes the thread with its runs, interrupts and checkpoints, in one transaction. Refused
     * (ThreadBusyError) while one of its runs is pending or running, or a cron runs on it.
     */
    delete: (threadId: string) => deleteThread(ctx, threadId),
    /**
     * Retention: deletes the threads untouched since `olderThan` (finished or failed; waiting
     * for a person only when `statuses` names "interrupted"), each as `delete` does.
     */
    prune: async (pruneOptions: PruneThreadsOptions) =>
      pruneThreads(
        ctx,
        optionsArg(pruneOptions, "threads.prune's options", "{ olderThan: new Date(…) }", PRUNE_OPTIONS, {
          required: true,
          nothing: "Nothing was deleted.",
        }),
      ),
  };
}

/** interrupts.*: list the questions threads wait for, or watch them as they are asked. */
function interruptsApi(ctx: ClientContext, hub: RunEventHub, closing: AbortSignal) {
  const { db } = ctx;
  return {
    /** Oldest first, a page at a time (`nextCursor`); pending unless `status` says otherwise. */
    list: async (query?: ListInterruptsQuery) =>
      listInterruptsPage(
        db,
        optionsArg(query, "interrupts.list's query", '{ status: "pending" }', LIST_QUERY_KEYS),
      ),
    /**
     * The interrupts threads wait for, as they are asked: an async iterator, at least once, in
     * the order their parks committed. Store each one's `cursor` once handled and give it as
     * `after` to continue there (see WatchInterruptsOptions).
     */
    watch: (watchOptions?: WatchInterruptsOptions) =>
      watchInterrupts(
        ctx,
        hub,
        optionsArg(watchOptions, "interrupts.watch's options", '{ graphId: "…" }', WATCH_OPTIONS),
        closing,
      ),
  };
}

const CRON_KEYS = [
  "graphId",
  "schedule",
  "timezone",
  "input",
  "threadId",
  "config",
] as const satisfies readonly (keyof CronSpec)[];

/** The client's crons: `crons.create` checks the graph and input as runs.start does, so a cron never ticks into a refusal. */
function checkedCrons(ctx: ClientContext, crons: ReturnType<typeof cronsApi>) {
  return {
    /** Checks the graph and input as runs.start does, so a cron never ticks into a refusal. */
    create: async (spec: CronSpec) => {
      objectArg(spec, "crons.create's argument", "{ graphId, schedule }", true);
      knownKeys(spec, CRON_KEYS, "crons.create's argument", "Nothing was written.");
      await checkInput(ctx, {
        graphId: spec.graphId,
        input: spec.input === undefined ? {} : spec.input,
        ...(spec.config === undefined ? {} : { config: spec.config }),
      });
      return crons.create(spec);
    },
    /** Every cron, oldest first: it takes no filter (one given is refused, not ignored). */
    list: async (...args: unknown[]) => {
      if (args.some((arg) => arg !== undefined))
        throw new InvalidInputError(
          `crons.list takes no arguments: it lists every cron (filter its result by graphId); got ${shown(args.find((arg) => arg !== undefined))}.`,
        );
      return crons.list();
    },
    /** Deletes cron `id` (crons.create's `id`) and cancels the runs it queued that have not begun; false when there is none. */
    delete: async (id: string) => {
      if (typeof id !== "string" || id === "")
        throw new InvalidInputError(
          `crons.delete takes a cron's id (the id crons.create and crons.list give), as a string; got ${shown(id)}. Nothing was deleted.`,
        );
      return crons.deleteWithRuns(id, (runId) => cancelRun(ctx, runId));
    },
  };
}

/** graphs.*: the graphs workers registered, and their node cache. */
function graphsApi(db: Db, cache: PostgresCache) {
  return {
    /**
     * Every graph workers registered, by id: its versions (which are live, which producers check
     * against), whether a live worker serves it, and its runs waiting (pending or running).
     */
    list: () => listGraphs(db),
    /**
     * Forgets what the graph's nodes and tasks with a cachePolicy keep in the deployment's node
     * cache (workers keep them under the graph id): after a deploy that changed what a cached
     * node writes, its runs run it again. Other graphs' entries are kept.
     */
    clearCache: async (graphId: string): Promise<void> => {
      if (typeof graphId !== "string" || graphId === "")
        throw new InvalidInputError(`graphs.clearCache takes a graph id; got ${JSON.stringify(graphId)}.`);
      // A typo cleared nothing and said nothing: the deploy's stale cached writes stayed.
      if (!isStorableId(graphId) || (await getGraph(db, db.pool, graphId)) === undefined)
        throw new UnknownGraphError(graphId, await listGraphIds(db));
      await cache.clear([cacheNamespace(graphId)]);
    },
  };
}

/**
 * The producer client: start runs, wait for them, answer interrupts, read threads. A call that
 * cannot reach Postgres fails with PostgresUnavailableError.
 */
export function createClient(options: ClientOptions = {}) {
  checkClientOptions(options);
  const ownsConnections = options.pool === undefined;
  const pools =
    options.pool === undefined
      ? connectPostgresPools(
          options.databaseUrl,
          undefined,
          options.timeouts,
          options.postgresLanes ?? DEFAULT_POSTGRES_LANES,
        )
      : { pool: options.pool, storePool: options.pool, end: async () => {} };
  const { pool, storePool } = pools;
  const db = createDb(pool, options.schema); // checks the schema before Redis is connected
  const logger = options.logger ?? pino({ name: "layover-client" });
  const connection = options.connection ?? connectRedis(options.redisUrl, logger, "client");
  const prefix = options.prefix ?? "layover";
  const hub = new RunEventHub(connection, prefix, logger);
  const readers = new StreamReaders(connection, logger);
  const ownSaver = options.saver === undefined ? new PostgresSaver({ pool, schema: db.schema }) : undefined;
  const ctx: ClientContext = {
    db,
    saver: options.saver ?? (ownSaver as PostgresSaver),
    ...(ownSaver ? { alongSaver: ownSaver } : {}),
    dispatcher: createDispatcher(connection, prefix, options.maxRedisBacklog),
    logger,
    identity: options.identity ?? "client",
    graphs: new Map(),
    events: hub,
    seenPending: new SeenPending(),
  };
  const crons = cronsApi(db, connection, prefix, logger);
  const store = new PostgresStore({ pool: storePool, schema: db.schema, index: options.storeIndex });
  let closed = false;
  return withTypedFailures(
    {
      runs: runsApi(ctx, hub, { readers, prefix }),
      threads: threadsApi(ctx),
      interrupts: interruptsApi(ctx, hub, readers.closing),
      graphs: graphsApi(db, new PostgresCache({ pool: storePool, schema: db.schema })),
      crons: checkedCrons(ctx, crons),
      /**
       * The deployment's long-term store, the one workers give their graphs (`config.store`):
       * memories a run wrote, read or seeded from outside any run.
       */
      store: {
        get: store.get.bind(store),
        put: store.put.bind(store),
        delete: store.delete.bind(store),
        search: store.search.bind(store),
        listNamespaces: store.listNamespaces.bind(store),
        batch: store.batch.bind(store),
      },
      reconcile: async (reconcileOptions?: ReconcileOptions) =>
        reconcileRuns(
          db,
          ctx.dispatcher,
          optionsArg(reconcileOptions, "reconcile's options", "{ limit: 1000 }", RECONCILE_OPTIONS),
        ),
      /** Ends the client's waits, streams and watches; its calls after are refused (ClientClosedError). */
      async close() {
        if (closed) return;
        closed = true;
        readers.close(new ClientClosedError("runs.wait", true));
        await hub.close();
        await crons.close();
        await ctx.dispatcher.close();
        if (ownsConnections) {
          connection.disconnect();
          await pools.end();
        }
      },
    },
    { schema: db.schema, closed: () => closed },
  );
}

export type LayoverClient = ReturnType<typeof createClient>;
