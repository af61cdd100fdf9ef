// A caller's statement committed together with a put (PostgresSaver.putThen): a worker stores a
// run's last checkpoint and ends the run in one round trip and one commit.
import { PostgresSaverError } from "./errors.ts";
import { quoteSchema, statementName } from "./schema-name.ts";
import { putCheckpointSql } from "./sql/put-checkpoint.ts";

/** A statement to run with a put, in its transaction, once its compare-and-set has won. */
export interface PutThen {
  /** Names the SQL text (lower-case letters and underscores), so it is prepared once per connection. */
  name: string;
  /**
   * A SELECT (or INSERT/UPDATE … RETURNING) giving at most one row. It must read the CTE `won`
   * (one row when the put won, none otherwise) so that it does nothing when the put loses, e.g.
   * `SELECT f.* FROM won CROSS JOIN LATERAL my_function($18) f`. Its parameters are numbered
   * from $18.
   */
  sql: string;
  values: readonly unknown[];
}

const NAME = /^[a-z_]{1,30}$/;

/** The put statements with a `then`, by `then.name`, made on first use. */
export class PutThenStatements {
  private readonly byName = new Map<string, { name: string; text: string }>();
  private readonly schema: string;

  constructor(schema: string) {
    this.schema = schema;
  }

  /** The named statement for `then`; a name that could not name a statement is refused. */
  get(then: PutThen): { name: string; text: string } {
    if (!NAME.test(then.name)) {
      throw new PostgresSaverError(
        "INVALID_SAVER_INPUT",
        `putThen: the name ${JSON.stringify(then.name)} must be 1–30 lower-case letters or underscores.`,
      );
    }
    let statement = this.byName.get(then.name);
    if (statement === undefined) {
      statement = {
        name: statementName(`put_then_${then.name}`, this.schema),
        text: putCheckpointSql(quoteSchema(this.schema), then.sql),
      };
      this.byName.set(then.name, statement);
    }
    return statement;
  }
}
