import {
  BaseStore,
  checkOperations,
  InvalidStoreOperationError,
  type Operation,
  type OperationResults,
} from "@layover/checkpoint";
import type pg from "pg";
import { type MigrateResult, migrate } from "./migrate.ts";
import { postgresHome } from "./pool.ts";
import { type RetryOptions, withRetry } from "./retry.ts";
import type { ReadRow } from "./sql/store-read.ts";
import { singleStatement } from "./sql/store-single.ts";
import { batchStatements, resultsOf, type Statement } from "./store-batch.ts";
import type { PostgresStoreOptions } from "./store-options.ts";
import { inTransaction } from "./transaction.ts";

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

  constructor(options: PostgresStoreOptions) {
    super();
    if ((options as { index?: unknown }).index !== undefined) {
      throw new InvalidStoreOperationError(
        "PostgresStore has no `index` (semantic search over embeddings): Layover's stores embed nothing. Search by namespace and filter instead.",
      );
    }
    ({
      pool: this.pool,
      owned: this.ownsPool,
      schema: this.schema,
      quoted: this.quoted,
      retry: this.retry,
    } = postgresHome("PostgresStore", options));
  }

  /** Creates or upgrades the tables (see `migrate`). Safe to call from many processes at once. */
  setup(): Promise<MigrateResult> {
    return migrate(this.pool, { schema: this.schema, retry: this.retry });
  }

  /** Ends the pool when the store built it from a connection string; a given pool is left open. */
  async close(): Promise<void> {
    if (this.ownsPool) await this.pool.end();
  }

  async batch<Op extends Operation[]>(operations: Op): Promise<OperationResults<Op>> {
    checkOperations(operations);
    const single = singleStatement(this.quoted, this.schema, operations);
    const statements = single === undefined ? batchStatements(this.quoted, operations) : [single];
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
