// A caller's statement committed together with a put (PostgresSaver.putThen): a worker stores a
// run's last checkpoint and ends the run in one round trip and one commit.
import { PostgresSaverError } from "./errors.ts";
import { checkCallerName, quoteSchema, statementName } from "./schema-name.ts";
import { putCheckpointSql } from "./sql/put-checkpoint.ts";
import { putWritesThenSql } from "./sql/put-writes.ts";

/** A statement to run with a put, in its transaction, once its compare-and-set has won. */
export interface PutThen {
  /** Names the SQL text (lower-case letters and underscores), so it is prepared once per connection. */
  name: string;
  /**
   * A SELECT giving at most one row, e.g. `SELECT * FROM my_function($18)`: it runs only when
   * the put won (it may read the CTE `won`: one row with the key's key_id). Its parameters are
   * numbered from $18. An INSERT/UPDATE … RETURNING runs in any case, so it must itself select
   * from `won` to do nothing when the put loses. A function it calls must be VOLATILE (the
   * default): Postgres may evaluate an IMMUTABLE one while planning, whether or not the put wins.
   */
  sql: string;
  values: readonly unknown[];
}

/** The put statements with a `then`, by `then.name`, made on first use; one SQL text per name. */
export class PutThenStatements {
  private readonly byName = new Map<
    string,
    { name: string; text: string; thenSql: string; values: number }
  >();
  private readonly schema: string;

  constructor(schema: string) {
    this.schema = schema;
  }

  /**
   * The named statement for `then`: with a put, storing pending writes too when `withWrites`
   * (their parameters follow then's), or with pending writes alone when "only"; a name that
   * could not name a statement is refused.
   */
  get(then: PutThen, withWrites: boolean | "only" = false): { name: string; text: string } {
    const key = `${withWrites}:${then.name}`;
    let statement = this.byName.get(key);
    checkCallerName("putThen", then.name, statement?.thenSql, then.sql);
    if (statement !== undefined && withWrites === true && statement.values !== then.values.length) {
      throw new PostgresSaverError(
        "INVALID_SAVER_INPUT",
        `putThen: "${then.name}" came with ${then.values.length} values, and before with ${statement.values}; one SQL text takes one number of values.`,
      );
    }
    if (statement === undefined) {
      const s = quoteSchema(this.schema);
      const writesFrom = withWrites === true ? 18 + then.values.length : undefined;
      const prefix = withWrites === "only" ? "wthen" : withWrites ? "putw" : "put_then";
      statement = {
        name: statementName(`${prefix}_${then.name}`, this.schema),
        text:
          withWrites === "only" ? putWritesThenSql(s, then.sql) : putCheckpointSql(s, then.sql, writesFrom),
        thenSql: then.sql,
        values: then.values.length,
      };
      this.byName.set(key, statement);
    }
    return { name: statement.name, text: statement.text };
  }
}
