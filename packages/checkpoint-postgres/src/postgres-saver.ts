import {
  type CheckpointKey,
  type CheckpointRef,
  type CheckpointSaver,
  type CheckpointTuple,
  jsonSerializer,
  type ListCheckpointsOptions,
  type PutCheckpointArgs,
  type PutWritesArgs,
  type Serializer,
  wellFormed,
} from "@layover/checkpoint";
import type pg from "pg";
import {
  checkUuid,
  decodeTuples,
  type HeadsRow,
  isUuid,
  type ReadRow,
  splitFilter,
  splitHeads,
} from "./checkpoint-codec.ts";
import { type BeforeCommit, type GuardedCommits, GuardedSaver, type OnStored } from "./guarded-saver.ts";
import { type MigrateResult, migrate } from "./migrate.ts";
import { checkOptionsObject, connStringOptions, poolFor } from "./pool.ts";
import {
  type DeletedRows,
  type PruneResult,
  type PruneSelector,
  type PruneStrategy,
  pruneThreads,
} from "./prune.ts";
import { type PutDeps, storeChain, storeWrites, storeWritesThen } from "./put.ts";
import type { PutGuard } from "./put-guard.ts";
import { type PutThen, PutThenStatements } from "./put-then.ts";
import { HeadsAlong, type ReadAlong } from "./read-along.ts";
import { ReadBatcher } from "./read-batcher.ts";
import { type RetryOptions, withRetry } from "./retry.ts";
import {
  checkSaverNumbers,
  type ListDeltaOptions,
  type PostgresSaverOptions,
  SAVER_OPTIONS,
} from "./saver-options.ts";
import { DEFAULT_SCHEMA, quoteSchema, statementName } from "./schema-name.ts";
import { compactBlobSql } from "./sql/compact-blob.ts";
import { deleteKeyRowsSql, lockThreadHeadsSql } from "./sql/delete-threads.ts";
import { checkpointExistsSql, currentHeadSql } from "./sql/head-lookups.ts";
import { putCheckpointSql } from "./sql/put-checkpoint.ts";
import { putWritesSql } from "./sql/put-writes.ts";
import { readByIdSql, readHeadsSql, readPageSql } from "./sql/read-checkpoints.ts";
import { inTransaction } from "./transaction.ts";

function buildQueries(schema: string) {
  const s = quoteSchema(schema);
  const named = (name: string, text: string) => ({ name: statementName(name, schema), text });
  return {
    put: named("put_checkpoint", putCheckpointSql(s)),
    putWrites: named("put_writes", putWritesSql(s)),
    readHeads: named("read_heads", readHeadsSql(s)),
    readById: named("read_by_id", readByIdSql(s)),
    readPage: readPageSql(s),
    compact: compactBlobSql(s),
    lockHeads: lockThreadHeadsSql(s),
    deleteRows: deleteKeyRowsSql(s),
    heads: currentHeadSql(s),
    exists: checkpointExistsSql(s),
  };
}

/** NUL, which Postgres text cannot hold: a read of such a key fails its statement. */
function batchable(ref: CheckpointRef): boolean {
  return !`${ref.threadId}\n${ref.ns}`.includes("\u0000");
}

/**
 * A (thread, namespace) as one string, for batching head reads: json that Postgres parses to the
 * text a put stored. The driver sends a half surrogate pair as U+FFFD (as
 * String.prototype.toWellFormed does); JSON.stringify would escape it, which Postgres refuses.
 */
function headKey(threadId: string, ns: string): string {
  return JSON.stringify([wellFormed(threadId), wellFormed(ns)]);
}

/**
 * Layover's Postgres checkpointer. Every superstep commits as one statement with
 * compare-and-set on the thread's head; channel values are stored once per version; lists
 * that grow by appending are stored as deltas. Transient failures are retried with jittered
 * backoff; everything else surfaces as a typed error. Run `setup()` (or `migrate()`) once
 * before use.
 */
export class PostgresSaver implements CheckpointSaver {
  readonly pool: pg.Pool;
  readonly schema: string;
  private readonly ownsPool: boolean;
  private readonly serde: Serializer;
  private readonly retry: RetryOptions;
  private readonly deltas: Required<ListDeltaOptions> | false;
  private readonly pageSize: number;
  private readonly sql: ReturnType<typeof buildQueries>;
  /** Head reads of many threads at once (workers' jobs, producers' waits) share a statement. */
  private readonly heads: ReadBatcher<ReadRow>;
  private readonly putThens: PutThenStatements;
  private readonly putDeps: PutDeps;
  private readonly along: HeadsAlong;

  constructor(options: PostgresSaverOptions) {
    checkOptionsObject("PostgresSaver", options);
    checkSaverNumbers(options);
    this.schema = options.schema ?? DEFAULT_SCHEMA;
    this.sql = buildQueries(this.schema);
    this.putThens = new PutThenStatements(this.schema);
    const { pool, owned } = poolFor("PostgresSaver", options, SAVER_OPTIONS);
    this.pool = pool;
    this.ownsPool = owned;
    this.serde = options.serializer ?? jsonSerializer;
    this.retry = options.retry ?? {};
    this.pageSize = Math.max(1, options.listPageSize ?? 50);
    // Two statements in flight: one slow read (a very large state) does not hold back the rest.
    this.heads = new ReadBatcher((keys) => this.readHeads(keys), { maxBatch: 32, maxInFlight: 2 });
    this.along = new HeadsAlong(this.pool, this.schema, this.retry, (row) => splitHeads(row, headKey));
    this.deltas =
      options.listDeltas === false
        ? false
        : {
            minSnapshotBytes: options.listDeltas?.minSnapshotBytes ?? 8192,
            maxChainLength: options.listDeltas?.maxChainLength ?? 256,
          };
    const { put, putWrites, exists, heads, compact } = this.sql;
    this.putDeps = {
      pool: this.pool,
      serde: this.serde,
      retry: this.retry,
      deltas: this.deltas,
      putThens: this.putThens,
      sql: { put, putWrites, exists, heads, compact },
    };
  }

  /** Creates or upgrades the tables (see `migrate`). Safe to call from many processes at once. */
  setup(): Promise<MigrateResult> {
    return migrate(this.pool, { schema: this.schema, retry: this.retry });
  }

  /**
   * LangGraph's form: a saver on a pool of its own (which `close()`/`end()` ends), built from a
   * connection string; `options` as the constructor's, without `pool` or `connectionString`.
   */
  static fromConnString(
    connString: string,
    options?: Omit<PostgresSaverOptions, "pool" | "connectionString">,
  ): PostgresSaver {
    return new PostgresSaver(connStringOptions("PostgresSaver", connString, options));
  }

  /** Ends the pool when the saver built it from a connection string; a given pool is left open. */
  async close(): Promise<void> {
    if (this.ownsPool) await this.pool.end();
  }

  /** LangGraph's name for `close()`. */
  end(): Promise<void> {
    return this.close();
  }

  async getTuple(ref: CheckpointRef): Promise<CheckpointTuple | undefined> {
    if (ref.checkpointId === undefined) {
      const key = headKey(ref.threadId, ref.ns);
      // A key Postgres cannot take as text (NUL) fails its statement: alone, not beside other
      // callers' reads.
      const row = batchable(ref) ? await this.heads.load(key) : (await this.readHeads([key])).get(key);
      return decodeTuples(ref, row, this.serde)[0];
    }
    if (!isUuid(ref.checkpointId)) return undefined;
    const query = { ...this.sql.readById, values: [ref.threadId, ref.ns, ref.checkpointId] };
    const result = await withRetry("getTuple", this.retry, () => this.pool.query<ReadRow>(query));
    return decodeTuples(ref, result.rows[0], this.serde)[0];
  }

  /**
   * The thread's head (`ref`, no checkpoint id) and `key`'s value of the caller's read `along`,
   * in one statement: one round trip where a caller needs both (a worker's job run, a
   * producer's wait). Reads asked at the same moment share the statement, as head reads do.
   */
  async getTupleAlong<R>(
    ref: CheckpointKey,
    along: ReadAlong<R>,
    key: string,
  ): Promise<{ tuple: CheckpointTuple | undefined; value: R | undefined }> {
    const found = await this.along.load(along, headKey(ref.threadId, ref.ns), key, !batchable(ref));
    return { tuple: decodeTuples(ref, found.head, this.serde)[0], value: found.value };
  }

  /** The heads of `keys` (`headKey`s), one statement; retried as a whole. */
  private async readHeads(keys: readonly string[]): Promise<Map<string, ReadRow>> {
    // Each key is already the json of its [threadId, ns] pair.
    const values = [`[${keys.join(",")}]`];
    const result = await withRetry("getTuple", this.retry, () =>
      this.pool.query<HeadsRow>({ ...this.sql.readHeads, values }),
    );
    return splitHeads(result.rows[0] as HeadsRow, headKey);
  }

  async *list(key: CheckpointKey, options: ListCheckpointsOptions = {}): AsyncIterable<CheckpointTuple> {
    if (options.before !== undefined) checkUuid(options.before, "list `before`");
    const filter = splitFilter(options.filter);
    let remaining = options.limit ?? Number.POSITIVE_INFINITY;
    let before = options.before ?? null;
    while (remaining > 0) {
      const size = filter.writes === undefined ? Math.min(remaining, this.pageSize) : this.pageSize;
      const values = [key.threadId, key.ns, before, filter.sql, size];
      const result = await withRetry("list", this.retry, () =>
        this.pool.query<ReadRow>(this.sql.readPage, values),
      );
      const page = decodeTuples(key, result.rows[0], this.serde);
      for (const tuple of page) {
        if (filter.writes !== undefined && JSON.stringify(tuple.metadata.writes) !== filter.writes.expected) {
          continue;
        }
        yield tuple;
        remaining -= 1;
        if (remaining <= 0) return;
      }
      if (page.length < size) return;
      before = (page.at(-1) as CheckpointTuple).checkpoint.id;
    }
  }

  async put(args: PutCheckpointArgs): Promise<void> {
    await storeChain(this.putDeps, [args], undefined);
  }

  /**
   * Stores a chain of checkpoints, oldest first, in one statement (one round trip, one commit):
   * each checkpoint's `parentId` is the one before it; the first's `expectedHead` (default its
   * `parentId`) is the compare-and-set of the whole chain, which moves the head to the last.
   * All are stored or none (CheckpointConflictError). A list delta's `appends` base may be a
   * version stored before the chain or one an earlier checkpoint of the chain writes.
   */
  async putMany(chain: readonly PutCheckpointArgs[]): Promise<void> {
    await storeChain(this.putDeps, chain, undefined);
  }

  /**
   * `put` (or `putMany` of a chain), and `then` in the same statement — one round trip, one
   * commit — when the put's compare-and-set wins: both are committed or neither is. Resolves to
   * `then`'s row. Undefined when there was none, or when a retry found the checkpoint stored by
   * an attempt whose answer was lost (its `then` ran with it; what it returned is not known).
   * `writes` (pending writes of the chain's checkpoints, as `putWrites` takes them) are stored
   * in the same statement too: a run that pauses stores its last superstep, its tasks' writes
   * and its own state at once.
   */
  async putThen<R>(
    args: PutCheckpointArgs | readonly PutCheckpointArgs[],
    then: PutThen,
    writes?: readonly PutWritesArgs[],
  ): Promise<R | undefined> {
    this.putThens.get(then); // refuses a bad name before anything is sent
    const chain = Array.isArray(args) ? args : [args as PutCheckpointArgs];
    return (await storeChain(this.putDeps, chain, { then, writes })) as R | undefined;
  }

  /**
   * `putWrites` of one or more tasks of one thread and namespace, against its head checkpoint,
   * and `then` in the same statement, run once the writes are stored (see putThen; `then` reads
   * `won`). Resolves to `then`'s row. Writes of a checkpoint that is no longer the head store
   * nothing and run nothing (CheckpointConflictError). Sent once, not retried: `then` may not be
   * safe to run twice. A worker parks a run this way when the head it pauses at is stored already.
   */
  putWritesThen<R>(writes: readonly PutWritesArgs[], then: PutThen): Promise<R | undefined> {
    return storeWritesThen<R>(this.putDeps, writes, then);
  }

  /**
   * This saver, its commits (put, putMany, putThen, putWritesThen) and its pending writes
   * (putWrites) made only while `guard` holds, checked in each one's own statement: one a worker's
   * job makes for a run is stored only while the run still holds its thread. A refused one fails
   * as a lost compare-and-set (CheckpointConflictError). Reads and deleteThread are this saver's
   * own. `before`, when given, is called before each commit, and what it throws fails the commit
   * before anything is sent (a worker's check that its job's lock still holds).
   */
  guarded(guard: PutGuard, before?: BeforeCommit, stored?: OnStored): GuardedSaver {
    this.putThens.get(undefined, false, guard); // refuses a bad name before anything is sent
    const commits = {
      store: (chain, then) => storeChain(this.putDeps, chain, { ...then, guard }),
      writesThen: (writes, then) => storeWritesThen(this.putDeps, writes, then, guard),
      writes: (args) => storeWrites(this.putDeps, args, guard),
    } satisfies GuardedCommits;
    return new GuardedSaver(this, commits, before, stored);
  }

  putWrites(args: PutWritesArgs): Promise<void> {
    return storeWrites(this.putDeps, args);
  }

  async deleteThread(threadId: string): Promise<void> {
    await this.deleteThreads([threadId]);
  }

  /** Removes threads entirely (every namespace, checkpoint, value and write), in one transaction. */
  async deleteThreads(threadIds: readonly string[]): Promise<DeletedRows> {
    if (threadIds.length === 0) return { threads: 0, checkpoints: 0, blobs: 0, writes: 0 };
    return withRetry("deleteThread", this.retry, () =>
      inTransaction(this.pool, (client) => this.deleteThreadsIn(client, threadIds)),
    );
  }

  /**
   * deleteThreads inside the caller's transaction, on `client` (a connection to this saver's
   * database, in a transaction the caller commits): the checkpoints go with whatever else the
   * transaction deletes, or not at all.
   */
  async deleteThreadsIn(client: pg.ClientBase, threadIds: readonly string[]): Promise<DeletedRows> {
    const heads = await client.query<{ thread_id: string; key_id: string }>(this.sql.lockHeads, [
      [...threadIds],
    ]);
    if (heads.rowCount === 0) return { threads: 0, checkpoints: 0, blobs: 0, writes: 0 };
    const keys = heads.rows.map((row) => row.key_id);
    const result = await client.query(this.sql.deleteRows, [keys]);
    const threads = new Set(heads.rows.map((row) => row.thread_id)).size;
    return { threads, ...(result.rows[0] as Omit<DeletedRows, "threads">) };
  }

  /**
   * Retention. `keep_latest`: in the selected threads, deletes every checkpoint but each
   * namespace's head (and, with `olderThan`, those newer than the date), with their values and
   * writes; the heads stay readable and resumable (list deltas they need are rewritten as full
   * values first). `delete`: deletes the selected threads entirely. `{ olderThan }` selects, for
   * `delete`, threads whose every head is older than the date.
   */
  prune(selector: PruneSelector, options: { strategy: PruneStrategy }): Promise<PruneResult> {
    return pruneThreads(
      { pool: this.pool, schema: this.schema, serde: this.serde, retry: this.retry },
      selector,
      options.strategy,
      (client, ids) => this.deleteThreadsIn(client, ids),
    );
  }
}
