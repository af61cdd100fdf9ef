import {
  BaseStore,
  checkIndexConfig,
  checkOperations,
  embedBatch,
  type IndexConfig,
  indexConfigOf,
  type Operation,
  type OperationResults,
  type StoreIndex,
} from "@layover/checkpoint";
import type pg from "pg";
import { type MigrateResult, migrate } from "./migrate.ts";
import { connStringOptions, postgresHome } from "./pool.ts";
import { type RetryOptions, withRetry } from "./retry.ts";
import type { ReadRow } from "./sql/store-read.ts";
import { singleStatement } from "./sql/store-single.ts";
import { batchStatements, resultsOf, type Statement } from "./store-batch.ts";
import { type PostgresStoreOptions, STORE_OPTIONS } from "./store-options.ts";
import { inTransaction } from "./transaction.ts";

/** Whether an indexed store's batch writes or reads vectors (a put of a value, a query): not one short statement. */
function touchesVectors(operations: readonly Operation[]): boolean {
  return operations.some((op) =>
    "namespacePrefix" in op ? Boolean(op.query) : "value" in op && op.value !== null,
  );
}

/**
 * Layover's long-term store in Postgres (LangGraph's PostgresStore, with InMemoryStore's
 * rules): JSON documents in the `store_items` table that `migrate()` creates beside the
 * checkpoint tables. A batch is checked whole before anything is sent, then runs in order:
 * each run of consecutive reads is one statement (one snapshot), each run of writes of distinct
 * keys one statement; a batch of one statement runs alone, a longer one in a transaction — all
 * of it is written or none. Transient failures are retried with jittered backoff (a batch as a
 * whole); everything else surfaces as a PostgresSaverError, as the saver's do.
 */
export class PostgresStore extends BaseStore {
  readonly pool: pg.Pool;
  readonly schema: string;
  private readonly ownsPool: boolean;
  private readonly retry: RetryOptions;
  private readonly quoted: string;
  private readonly index: StoreIndex | undefined;

  constructor(options: PostgresStoreOptions) {
    super();
    this.index = options.index === undefined ? undefined : checkIndexConfig(options.index, "PostgresStore");
    ({
      pool: this.pool,
      owned: this.ownsPool,
      schema: this.schema,
      quoted: this.quoted,
      retry: this.retry,
    } = postgresHome("PostgresStore", options, STORE_OPTIONS));
  }

  /** Creates or upgrades the tables (see `migrate`). Safe to call from many processes at once. */
  setup(): Promise<MigrateResult> {
    return migrate(this.pool, { schema: this.schema, retry: this.retry });
  }

  /**
   * LangGraph's form: a store on a pool of its own (which `close()`/`end()` ends), built from a
   * connection string; `options` as the constructor's, without `pool` or `connectionString`.
   */
  static fromConnString(
    connString: string,
    options?: Omit<PostgresStoreOptions, "pool" | "connectionString">,
  ): PostgresStore {
    return new PostgresStore(connStringOptions("PostgresStore", connString, options));
  }

  /** Ends the pool when the store built it from a connection string; a given pool is left open. */
  async close(): Promise<void> {
    if (this.ownsPool) await this.pool.end();
  }

  /** LangGraph's name for `close()`. */
  end(): Promise<void> {
    return this.close();
  }

  /** The index the store embeds with, as given (LangGraph's `indexConfig`). */
  get indexConfig(): IndexConfig | undefined {
    return indexConfigOf(this.index);
  }

  async batch<Op extends Operation[]>(operations: Op): Promise<OperationResults<Op>> {
    checkOperations(operations, this.index !== undefined);
    // Embedded before anything is sent: embeddings that fail leave the store as it was.
    const vectors = this.index === undefined ? undefined : await embedBatch(this.index, operations);
    const single =
      vectors !== undefined && touchesVectors(operations)
        ? undefined
        : singleStatement(this.quoted, this.schema, operations);
    const statements = single === undefined ? batchStatements(this.quoted, operations, vectors) : [single];
    const rows = await this.run(statements);
    return resultsOf(operations, rows) as OperationResults<Op>;
  }

  /** Runs the statements in order, alone or in one transaction; the rows of all, in order. */
  private async run(statements: readonly Statement[]): Promise<ReadRow[]> {
    const [only] = statements;
    if (only === undefined) return [];
    if (statements.length === 1) {
      const result = await withRetry("store batch", this.retry, () => this.pool.query<ReadRow>(only));
      return result.rows;
    }
    return withRetry("store batch", this.retry, () =>
      inTransaction(this.pool, async (client) => {
        const rows: ReadRow[] = [];
        for (const statement of statements) rows.push(...(await client.query<ReadRow>(statement)).rows);
        return rows;
      }),
    );
  }
}
