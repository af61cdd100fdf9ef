// A caller's statement committed together with a put (PostgresSaver.putThen): a worker stores a
// run's last checkpoint and ends the run in one round trip and one commit.
import { checkCallerName, quoteSchema, statementName } from "./schema-name.ts";
import { putCheckpointSql } from "./sql/put-checkpoint.ts";

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
  private readonly byName = new Map<string, { name: string; text: string; thenSql: string }>();
  private readonly schema: string;

  constructor(schema: string) {
    this.schema = schema;
  }

  /** The named statement for `then`; a name that could not name a statement is refused. */
  get(then: PutThen): { name: string; text: string } {
    let statement = this.byName.get(then.name);
    checkCallerName("putThen", then.name, statement?.thenSql, then.sql);
    if (statement === undefined) {
      statement = {
        name: statementName(`put_then_${then.name}`, this.schema),
        text: putCheckpointSql(quoteSchema(this.schema), then.sql),
        thenSql: then.sql,
      };
      this.byName.set(then.name, statement);
    }
    return { name: statement.name, text: statement.text };
  }
}
