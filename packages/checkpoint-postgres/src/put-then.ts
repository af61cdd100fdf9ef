// A caller's statement committed together with a put (PostgresSaver.putThen): a worker stores a
// run's last checkpoint and ends the run in one round trip and one commit.
import { PostgresSaverError } from "./errors.ts";
import { composedName, numberedGuard, type PutGuard } from "./put-guard.ts";
import { checkCallerName, quoteSchema, statementName } from "./schema-name.ts";
import { putCheckpointSql } from "./sql/put-checkpoint.ts";
import { putWritesSql, putWritesThenSql } from "./sql/put-writes.ts";

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

type Statement = { name: string; text: string };

/**
 * The put statements with a `then`, a guard or both, and the guarded putWrites, by their names,
 * made on first use; one SQL text per name. A put statement's parameters: the put's ($1–$17),
 * then's values, the pending writes' (5), the guard's values.
 */
export class PutThenStatements {
  private readonly byKey = new Map<string, Statement & { values: number[] }>();
  /** The SQL of each caller's name (then's and guards' apart). */
  private readonly texts = new Map<string, string>();
  private readonly schema: string;

  constructor(schema: string) {
    this.schema = schema;
  }

  /**
   * The named statement for `then` (none: a plain put, with `guard`): with a put, storing pending
   * writes too when `withWrites` (their parameters follow then's), or with pending writes alone
   * when "only"; ANDing `guard` into the compare-and-set. A name that could not name a statement,
   * or a known one with other SQL, is refused.
   */
  get(then: PutThen | undefined, withWrites: boolean | "only" = false, guard?: PutGuard): Statement {
    this.checkName("putThen", then);
    this.checkName("guarded", guard);
    // Values after which others follow (writes, a guard's) must come in the same number each time.
    const values = [withWrites === true || guard !== undefined ? (then?.values.length ?? 0) : -1];
    if (guard !== undefined) values.push(guard.values.length);
    const key = `${withWrites}:${then?.name ?? ""}:${guard?.name ?? ""}`;
    const label = `"${then?.name}" (guard "${guard?.name}")`;
    return this.cached(key, label, values, () => this.build(then, withWrites, guard));
  }

  /** The named statement of a plain putWrites under `guard` (its values from $8). */
  writes(guard: PutGuard): Statement {
    this.checkName("guarded", guard);
    return this.cached(
      `writes::${guard.name}`,
      `putWrites (guard "${guard.name}")`,
      [guard.values.length],
      () => ({
        name: statementName(composedName(["pw", `g_${guard.name}`]), this.schema),
        text: putWritesSql(quoteSchema(this.schema), numberedGuard(guard, 8)),
      }),
    );
  }

  /** The statement cached under `key`, built on first use; refused when its values' count changed. */
  private cached(key: string, label: string, values: number[], build: () => Statement): Statement {
    let statement = this.byKey.get(key);
    if (statement !== undefined && statement.values.join() !== values.join()) {
      throw new PostgresSaverError(
        "INVALID_SAVER_INPUT",
        `putThen: ${label} came with ${values} values, and before with ${statement.values}; one SQL text takes one number of values.`,
      );
    }
    if (statement === undefined) {
      statement = { ...build(), values };
      this.byKey.set(key, statement);
    }
    return { name: statement.name, text: statement.text };
  }

  private build(then: PutThen | undefined, withWrites: boolean | "only", guard: PutGuard | undefined) {
    const s = quoteSchema(this.schema);
    const thenTo = 18 + (then?.values.length ?? 0);
    const writesFrom = withWrites === true ? thenTo : undefined;
    const fence = guard && numberedGuard(guard, thenTo + (withWrites === true ? 5 : 0));
    const prefix =
      withWrites === "only" ? "wthen" : withWrites ? "putw" : then === undefined ? "putg" : "put_then";
    const name = composedName([prefix, then?.name, guard === undefined ? undefined : `g_${guard.name}`]);
    const text =
      withWrites === "only"
        ? putWritesThenSql(s, (then as PutThen).sql, fence)
        : putCheckpointSql(s, { thenSql: then?.sql, writesFrom, guard: fence });
    return { name: statementName(name, this.schema), text };
  }

  private checkName(what: string, named: { name: string; sql: string } | undefined): void {
    if (named === undefined) return;
    const key = `${what}:${named.name}`;
    checkCallerName(what, named.name, this.texts.get(key), named.sql);
    this.texts.set(key, named.sql);
  }
}
