// A caller's read made in the statement that reads thread heads (PostgresSaver.getTupleAlong):
// a worker reads a job's run with its thread's head, a producer's wait a run with its thread's
// head, in one round trip — and, asked at the same moment, many of them in one statement.
import type pg from "pg";
import type { HeadsRow, ReadRow } from "./checkpoint-codec.ts";
import { ReadBatcher } from "./read-batcher.ts";
import { type RetryOptions, withRetry } from "./retry.ts";
import { checkCallerName, quoteSchema, statementName } from "./schema-name.ts";
import { readHeadsSql } from "./sql/read-checkpoints.ts";

/** What a caller reads along with heads (see PostgresSaver.getTupleAlong). */
export interface ReadAlong<R> {
  /** Names the SQL text (1–30 lower-case letters or underscores): prepared once per connection. */
  name: string;
  /**
   * A SELECT of one row and one column, read in the same statement as the heads asked at the
   * same moment: the values of the keys in $2, a json array of strings, as json — e.g.
   * `SELECT json_object_agg(r.id, r) FROM runs r WHERE r.id IN (…$2…)`. It must not write.
   */
  sql: string;
  /** Each key's value in what `sql` selected (null when it found nothing). */
  split(selected: unknown): ReadonlyMap<string, R>;
}

/** One caller's part of a read: its thread's head row and its own value. */
export interface FoundAlong<R> {
  head: ReadRow | undefined;
  value: R | undefined;
}

type Split = (row: HeadsRow) => Map<string, ReadRow>;

/** Reads heads together with callers' reads, one batcher per ReadAlong name. */
export class HeadsAlong {
  private readonly kinds = new Map<
    string,
    { sql: string; statement: { name: string; text: string }; batcher: ReadBatcher<FoundAlong<unknown>> }
  >();

  private readonly pool: pg.Pool;
  private readonly schema: string;
  private readonly retry: RetryOptions;
  private readonly splitHeads: Split;

  constructor(pool: pg.Pool, schema: string, retry: RetryOptions, splitHeads: Split) {
    this.pool = pool;
    this.schema = schema;
    this.retry = retry;
    this.splitHeads = splitHeads;
  }

  /**
   * `headKey`'s head and `key`'s value of `along`, read in one statement with the others asked
   * meanwhile; `alone` sends it in a statement of its own (a key Postgres cannot take).
   */
  load<R>(along: ReadAlong<R>, headKey: string, key: string, alone: boolean): Promise<FoundAlong<R>> {
    const kind = this.kind(along);
    const pair = JSON.stringify([headKey, key]);
    if (!alone) return kind.batcher.load(pair).then((found) => (found ?? empty) as FoundAlong<R>);
    return this.read(along, kind.statement, [pair]).then(
      (found) => (found.get(pair) ?? empty) as FoundAlong<R>,
    );
  }

  private kind<R>(along: ReadAlong<R>) {
    let kind = this.kinds.get(along.name);
    checkCallerName("getTupleAlong", along.name, kind?.sql, along.sql);
    if (kind === undefined) {
      const statement = {
        // Named by its text too: savers of one schema on one pool may be given different SQL.
        name: statementName(`along_${along.name}`, `${this.schema}\n${along.sql}`),
        text: `SELECT h.checkpoints, h.blobs, h.writes, (${along.sql}) AS along
                 FROM (${readHeadsSql(quoteSchema(this.schema))}) h`,
      };
      // One statement in flight, the rest batched behind it; a second goes out only once the
      // first has taken 20 ms (a very large head), so a slow read holds back the rest no longer.
      // Two at once, as the saver's own head reads, sent the reads of a busy worker in twice as
      // many statements: each job's read is one of its four statements, and a batch of them
      // costs Postgres and the worker about what one read does.
      const batcher = new ReadBatcher((pairs) => this.read(along as ReadAlong<unknown>, statement, pairs), {
        maxBatch: 32,
        maxInFlight: 2,
        holdMs: 20,
      });
      kind = { sql: along.sql, statement, batcher };
      this.kinds.set(along.name, kind);
    }
    return kind;
  }

  /** One statement for `pairs` (json [headKey, key]); retried as a whole. */
  private async read<R>(
    along: ReadAlong<R>,
    named: { name: string; text: string },
    pairs: readonly string[],
  ): Promise<Map<string, FoundAlong<R>>> {
    const parsed = pairs.map((pair) => JSON.parse(pair) as [string, string]);
    // Each head key is already the json of its [threadId, ns] pair.
    const heads = `[${[...new Set(parsed.map(([head]) => head))].join(",")}]`;
    const keys = JSON.stringify([...new Set(parsed.map(([, key]) => key))]);
    const statement = { ...named, values: [heads, keys] };
    const result = await withRetry("getTupleAlong", this.retry, () =>
      this.pool.query<HeadsRow & { along: unknown }>(statement),
    );
    const row = result.rows[0] as HeadsRow & { along: unknown };
    const rows = this.splitHeads(row);
    const values = along.split(row.along);
    return new Map(
      parsed.map(([head, key], i) => [pairs[i] as string, { head: rows.get(head), value: values.get(key) }]),
    );
  }
}

const empty: FoundAlong<never> = { head: undefined, value: undefined };
