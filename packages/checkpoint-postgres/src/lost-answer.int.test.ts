// A put whose commit reached Postgres but whose answer never came back (the connection died
// after COMMIT) failed for its caller, who still holds the checkpoints: a worker's background
// store of a held superstep, stored again with the next one. The next put finds the head is one
// of its own checkpoints and carries on from it, instead of a conflict with itself.
import { isCheckpointConflict, type PutCheckpointArgs } from "@layover/checkpoint";
import { useTestSchema } from "@layover/testing/vitest";
import pg from "pg";
import { afterAll, beforeAll, expect, it } from "vitest";
import { isPostgresSaverError } from "./errors.ts";
import { migrate } from "./migrate.ts";
import { PostgresSaver } from "./postgres-saver.ts";
import { statementName } from "./schema-name.ts";
import { newKey, putArgs } from "./test-support/checkpoints.ts";
import { replyLosingPool } from "./test-support/pools.ts";

const schema = useTestSchema("lost_answer");
let admin: pg.Pool;
beforeAll(async () => {
  admin = new pg.Pool({ connectionString: schema.current.url, max: 2 });
  await migrate(admin, { schema: schema.current.name });
});
afterAll(async () => {
  await admin.end();
});

/** A saver whose first put commits and loses its answer, not retried: its caller sees the failure. */
function losingSaver() {
  const { pool, lost } = replyLosingPool(
    schema.current.url,
    statementName("put_checkpoint", schema.current.name),
  );
  const saver = new PostgresSaver({ pool, schema: schema.current.name, retry: { maxAttempts: 1 } });
  return { saver, lost, close: () => pool.end() };
}

/** A stored start, and two checkpoints after it (`n` 1 and 2). */
async function startAndNext(saver: PostgresSaver, label: string) {
  const key = newKey(label);
  const start = putArgs(key, { values: { n: 0 }, versions: { n: 1 }, changed: ["n"], parentId: null });
  await new PostgresSaver({ pool: admin, schema: schema.current.name }).put(start);
  const a = putArgs(key, {
    values: { n: 1 },
    versions: { n: 2 },
    changed: ["n"],
    parentId: start.checkpoint.id,
  });
  const b = putArgs(key, { values: { n: 2 }, versions: { n: 3 }, changed: ["n"], parentId: a.checkpoint.id });
  const failed = await saver.put(a).catch((error: unknown) => error);
  expect(isPostgresSaverError(failed, "POSTGRES_UNAVAILABLE")).toBe(true);
  return { key, a, b };
}

it("a chain stored again after a put of its first checkpoint lost its answer stores the rest", async () => {
  const { saver, lost, close } = losingSaver();
  try {
    const { key, a, b } = await startAndNext(saver, "chain-after-lost");
    expect(lost()).toBe(1);
    await saver.putMany([a, b] as PutCheckpointArgs[]);
    const tuple = await saver.getTuple(key);
    expect(tuple?.checkpoint.id).toBe(b.checkpoint.id);
    expect(tuple?.checkpoint.channelValues).toEqual({ n: 2 });
    expect(tuple?.parentId).toBe(a.checkpoint.id);
  } finally {
    await close();
  }
});

it("the same checkpoint stored again after its lost answer is stored, once", async () => {
  const { saver, close } = losingSaver();
  try {
    const { key, a } = await startAndNext(saver, "same-after-lost");
    await saver.put(a);
    expect((await saver.getTuple(key))?.checkpoint.id).toBe(a.checkpoint.id);
    const { rows } = await admin.query(
      `SELECT count(*)::int AS n FROM "${schema.current.name}".checkpoints c
         JOIN "${schema.current.name}".checkpoint_heads h USING (key_id) WHERE h.thread_id = $1`,
      [key.threadId],
    );
    expect(rows[0].n).toBe(2);
  } finally {
    await close();
  }
});

it("a chain whose head another process moved is still refused", async () => {
  const { saver, close } = losingSaver();
  try {
    const { key, a } = await startAndNext(saver, "other-after-lost");
    const other = putArgs(key, {
      values: { n: 9 },
      versions: { n: 3 },
      changed: ["n"],
      parentId: a.checkpoint.id,
    });
    await new PostgresSaver({ pool: admin, schema: schema.current.name }).put(other);
    const mine = putArgs(key, {
      values: { n: 2 },
      versions: { n: 3 },
      changed: ["n"],
      parentId: a.checkpoint.id,
    });
    const refused = await saver.putMany([a, mine]).catch((error: unknown) => error);
    expect(isCheckpointConflict(refused)).toBe(true);
  } finally {
    await close();
  }
});
