// getTupleAlong: a caller's read in the statement that reads thread heads. Each caller gets its
// own head and its own value, reads asked together share a statement, and the statement is
// planned once per connection.
import type { CheckpointKey } from "@layover/checkpoint";
import { useTestSchema } from "@layover/testing/vitest";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { PostgresSaverError } from "./errors.ts";
import { migrate } from "./migrate.ts";
import { PostgresSaver } from "./postgres-saver.ts";
import type { ReadAlong } from "./read-along.ts";
import { newKey, putArgs } from "./test-support/checkpoints.ts";

const schema = useTestSchema("read_along");
let pool: pg.Pool;
let saver: PostgresSaver;
let notes: ReadAlong<string>;
const keys: CheckpointKey[] = [];

beforeAll(async () => {
  pool = new pg.Pool({ connectionString: schema.current.url, max: 4 });
  await migrate(pool, { schema: schema.current.name });
  saver = new PostgresSaver({ pool, schema: schema.current.name });
  const s = `"${schema.current.name}"`;
  // The caller's table: a note per thread.
  await pool.query(`CREATE TABLE ${s}.notes (id text PRIMARY KEY, body text NOT NULL)`);
  notes = {
    name: "notes",
    sql: `SELECT json_object_agg(n.id, n.body) FROM json_array_elements_text($2::json) k(id)
            JOIN ${s}.notes n ON n.id = k.id`,
    split: (selected) => new Map(Object.entries((selected ?? {}) as Record<string, string>)),
  };
  for (let i = 0; i < 12; i++) {
    const key = newKey(`along-${i}`);
    keys.push(key);
    await saver.put(putArgs(key, { values: { n: i }, versions: { n: 1 }, changed: ["n"], parentId: null }));
    await pool.query(`INSERT INTO ${s}.notes VALUES ($1, $2)`, [`note-${i}`, `body ${i}`]);
  }
});
afterAll(async () => {
  await pool?.end();
});

/** The along statements `work` sends through the pool. */
async function sentDuring<T>(work: () => Promise<T>): Promise<{ result: T; sent: number }> {
  let sent = 0;
  const query = pool.query.bind(pool);
  pool.query = ((config: { name?: string }, ...rest: unknown[]) => {
    if (config?.name?.startsWith("layover_along_notes")) sent += 1;
    return (query as (...args: unknown[]) => unknown)(config, ...rest);
  }) as typeof pool.query;
  try {
    return { result: await work(), sent };
  } finally {
    pool.query = query;
  }
}

describe("getTupleAlong", () => {
  it("gives each caller its thread's head and its own value; reads asked together share statements", async () => {
    const { result, sent } = await sentDuring(() =>
      Promise.all([
        ...keys.map((key, i) => saver.getTupleAlong(key, notes, `note-${i}`)),
        saver.getTupleAlong(newKey("no-thread"), notes, "note-3"),
        saver.getTupleAlong(keys[0] as CheckpointKey, notes, "no-note"),
      ]),
    );
    keys.forEach((key, i) => {
      expect(result[i]?.tuple).toMatchObject({
        threadId: key.threadId,
        checkpoint: { channelValues: { n: i } },
      });
      expect(result[i]?.value).toBe(`body ${i}`);
    });
    expect(result.at(-2)).toEqual({ tuple: undefined, value: "body 3" });
    expect(result.at(-1)?.tuple?.threadId).toBe(keys[0]?.threadId);
    expect(result.at(-1)?.value).toBeUndefined();
    // The first reads go out alone (two in flight), the rest asked meanwhile together.
    expect(sent).toBeGreaterThan(1);
    expect(sent).toBeLessThanOrEqual(4);
  });

  it("a thread id Postgres cannot hold fails only its own read, not the reads beside it", async () => {
    const [bad, ...good] = await Promise.allSettled([
      saver.getTupleAlong({ threadId: "t-\u0000", ns: "" }, notes, "note-1"),
      ...keys.slice(0, 4).map((key, i) => saver.getTupleAlong(key, notes, `note-${i}`)),
    ]);
    expect(bad?.status).toBe("rejected");
    good.forEach((outcome, i) => {
      expect(outcome).toMatchObject({ status: "fulfilled", value: { value: `body ${i}` } });
    });
  });

  it("refuses a name that cannot name a statement, or one name for two SQL texts, sending nothing", async () => {
    const key = keys[0] as CheckpointKey;
    const { sent } = await sentDuring(async () => {
      for (const along of [
        { ...notes, name: "Bad-Name" },
        { ...notes, sql: `${notes.sql} WHERE true` },
      ]) {
        const error = await saver.getTupleAlong(key, along, "note-0").catch((e: unknown) => e);
        expect(error).toBeInstanceOf(PostgresSaverError);
        expect(error).toMatchObject({ code: "INVALID_SAVER_INPUT" });
      }
    });
    expect(sent).toBe(0);
  });

  it("is planned once per connection, not on every call", async () => {
    const client = await pool.connect();
    try {
      const onOne = new PostgresSaver({ pool: client as unknown as pg.Pool, schema: schema.current.name });
      for (let i = 0; i < 8; i++) {
        const asked = keys.slice(0, 1 + (i % 5));
        await Promise.all(asked.map((key, j) => onOne.getTupleAlong(key, notes, `note-${j}`)));
      }
      const { rows } = await client.query(
        "SELECT generic_plans, custom_plans FROM pg_prepared_statements WHERE name LIKE 'layover_along_notes%'",
      );
      expect(rows).toHaveLength(1);
      expect(Number(rows[0].generic_plans)).toBeGreaterThan(0);
    } finally {
      client.release();
    }
  });
});
