import type { CheckpointKey } from "@layover/checkpoint";
import { useTestSchema } from "@layover/testing/vitest";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { migrate } from "./migrate.ts";
import { PostgresSaver } from "./postgres-saver.ts";
import { pickPageSql, readByIdSql, readHeadsSql, readPageSql } from "./sql/read-checkpoints.ts";
import { newKey, putArgs } from "./test-support/checkpoints.ts";

const schema = useTestSchema("reads");
let pool: pg.Pool;
let saver: PostgresSaver;
const THREADS = 40;
const STEPS = 60;
let target: CheckpointKey;
let targetKeys: CheckpointKey[] = [];
let targetIds: string[] = [];

interface PlanNode {
  "Node Type": string;
  "Relation Name"?: string;
  "Index Name"?: string;
  Plans?: PlanNode[];
}

function nodes(plan: PlanNode): PlanNode[] {
  return [plan, ...(plan.Plans ?? []).flatMap(nodes)];
}

async function explain(sql: string, values: unknown[]) {
  const { rows } = await pool.query(`EXPLAIN (FORMAT JSON) ${sql}`, values);
  const all = nodes((rows[0]["QUERY PLAN"] as [{ Plan: PlanNode }])[0].Plan);
  return {
    seqScans: all.filter((node) => node["Node Type"] === "Seq Scan").map((node) => node["Relation Name"]),
    indexes: [...new Set(all.flatMap((node) => (node["Index Name"] ? [node["Index Name"]] : [])))].sort(),
  };
}

/** A thread of STEPS checkpoints: a changing counter, a list that grows, a rarely changing document. */
async function fillThread(key: CheckpointKey): Promise<string[]> {
  let parentId: string | null = null;
  let list: string[] = [];
  const ids: string[] = [];
  for (let step = 0; step < STEPS; step++) {
    const next = [...list, `item ${step}`];
    const args = putArgs(key, {
      values: { counter: step, list: next, document: { revision: Math.floor(step / 10) } },
      versions: { counter: step + 1, list: step + 1, document: Math.floor(step / 10) + 1 },
      changed: step % 10 === 0 ? ["counter", "list", "document"] : ["counter", "list"],
      parentId,
      step,
      ...(step > 0 ? { appends: { list: { baseVersion: step, baseLength: list.length } } } : {}),
    });
    args.metadata = {
      source: step === 0 ? "input" : "loop",
      step: step - 1,
      writes: null,
      ...(step === 42 ? { user: "ann" } : {}),
    };
    await saver.put(args);
    await saver.putWrites({
      ...key,
      checkpointId: args.checkpoint.id,
      taskId: "task",
      writes: [["counter", step]],
    });
    ids.push(args.checkpoint.id);
    parentId = args.checkpoint.id;
    list = next;
  }
  return ids;
}

beforeAll(async () => {
  pool = new pg.Pool({ connectionString: schema.current.url, max: 4 });
  await migrate(pool, { schema: schema.current.name });
  saver = new PostgresSaver({ pool, schema: schema.current.name });
  const keys = Array.from({ length: THREADS }, (_, i) => newKey(`reads-${i}`));
  target = keys[7] as CheckpointKey;
  targetKeys = keys;
  const filled = await Promise.all(keys.map(fillThread));
  targetIds = filled[7] as string[];
  // Many short threads too, so the heads table has the size of a real deployment's: on a
  // one-page table a sequential scan is the right plan.
  const short = Array.from({ length: 2000 }, (_, i) => newKey(`short-${i}`));
  for (let i = 0; i < short.length; i += 50) {
    await Promise.all(
      short.slice(i, i + 50).map((key) =>
        saver.put(
          putArgs(key, {
            values: { counter: 0 },
            versions: { counter: 1 },
            changed: ["counter"],
            parentId: null,
          }),
        ),
      ),
    );
  }
  await pool.query(`ANALYZE "${schema.current.name}".checkpoints, "${schema.current.name}".checkpoint_blobs,
    "${schema.current.name}".checkpoint_writes, "${schema.current.name}".checkpoint_heads`);
}, 120_000);

afterAll(async () => {
  await pool.end();
});

describe("reads", () => {
  it("return the head, any checkpoint by id, and history newest first with limit, before and filter", async () => {
    const head = await saver.getTuple(target);
    expect(head?.checkpoint.id).toBe(targetIds.at(-1));
    expect(head?.checkpoint.channelValues.list).toHaveLength(STEPS);
    expect(head?.pendingWrites).toEqual([{ taskId: "task", channel: "counter", idx: 0, value: STEPS - 1 }]);
    const middle = await saver.getTuple({ ...target, checkpointId: targetIds[25] });
    expect(middle?.checkpoint.channelValues).toEqual({
      counter: 25,
      list: Array.from({ length: 26 }, (_, i) => `item ${i}`),
      document: { revision: 2 },
    });
    const page = [];
    for await (const tuple of saver.list(target, { before: targetIds[30], limit: 5 }))
      page.push(tuple.checkpoint.id);
    expect(page).toEqual(targetIds.slice(25, 30).reverse());
    const filtered = [];
    for await (const tuple of saver.list(target, { filter: { user: "ann" } }))
      filtered.push(tuple.checkpoint.id);
    expect(filtered).toEqual([targetIds[42]]);
    const inputs = [];
    for await (const tuple of saver.list(target, { filter: { source: "input", step: -1 } }))
      inputs.push(tuple);
    expect(inputs.map((tuple) => tuple.checkpoint.id)).toEqual([targetIds[0]]);
  });

  it("head reads asked at once share a statement, and each gets its own thread's head", async () => {
    // Threads whose values, list deltas and pending writes differ, in two namespaces.
    const keys = Array.from({ length: 12 }, (_, i) => ({
      ...newKey(`batch-${i}`),
      ns: i % 3 === 0 ? "sub:1" : "",
    }));
    for (const [i, key] of keys.entries()) {
      let parentId: string | null = null;
      for (let step = 0; step <= i % 4; step++) {
        const args = putArgs(key, {
          values: { who: `thread ${i}`, list: Array.from({ length: step + 1 }, (_, n) => `${i}.${n}`) },
          versions: { who: 1, list: step + 1 },
          changed: step === 0 ? ["who", "list"] : ["list"],
          parentId,
          ...(step > 0 ? { appends: { list: { baseVersion: step, baseLength: step } } } : {}),
        });
        await saver.put(args);
        parentId = args.checkpoint.id;
      }
      await saver.putWrites({
        ...key,
        checkpointId: parentId as string,
        taskId: `task ${i}`,
        writes: [["who", i]],
      });
    }
    const missing = newKey("batch-missing");
    const sent: string[] = [];
    const query = pool.query.bind(pool);
    pool.query = ((config: { name?: string }, ...rest: unknown[]) => {
      if (config?.name?.startsWith("layover_read_heads")) sent.push(config.name);
      return (query as (...args: unknown[]) => unknown)(config, ...rest);
    }) as typeof pool.query;
    try {
      const heads = await Promise.all(
        [...keys, missing, { ...(keys[1] as CheckpointKey), ns: "sub:9" }].map((key) => saver.getTuple(key)),
      );
      expect(heads.at(-1)).toBeUndefined();
      expect(heads.at(-2)).toBeUndefined();
      for (const [i, key] of keys.entries()) {
        expect(heads[i]).toMatchObject({ threadId: key.threadId, ns: key.ns });
        expect(heads[i]?.checkpoint.channelValues).toEqual({
          who: `thread ${i}`,
          list: Array.from({ length: (i % 4) + 1 }, (_, n) => `${i}.${n}`),
        });
        expect(heads[i]?.pendingWrites).toEqual([{ taskId: `task ${i}`, channel: "who", idx: 0, value: i }]);
      }
      // The first reads go out alone (a few statements in flight at most); the rest, asked while
      // those were in flight, together.
      expect(sent.length).toBeGreaterThan(1);
      expect(sent.length).toBeLessThanOrEqual(3);
    } finally {
      pool.query = query;
    }
  });

  it("a thread id Postgres cannot hold fails only its own head read, not the reads batched beside it", async () => {
    const good = newKey("beside-bad");
    const args = putArgs(good, { values: { n: 1 }, versions: { n: 1 }, changed: ["n"], parentId: null });
    await saver.put(args);
    for (const bad of ["t-\ud800", "t-\u0000"]) {
      // Reads that take the statements in flight: the next two go out together.
      const fillers = Array.from({ length: 2 }, (_, i) => saver.getTuple(newKey(`filler-${i}`)));
      const [, mine] = await Promise.allSettled([
        saver.getTuple({ threadId: bad, ns: "" }),
        saver.getTuple(good),
      ]);
      await Promise.all(fillers);
      expect(mine).toMatchObject({ status: "fulfilled", value: { checkpoint: { id: args.checkpoint.id } } });
    }
  });

  it("a thread id with half a surrogate pair reads back the head its put stored", async () => {
    // The driver sends such an id as UTF-8 with U+FFFD in place of the half pair; so does the read.
    for (const threadId of [`lone-high-\ud800-${Date.now()}`, `lone-low-\udc00-${Date.now()}`]) {
      const args = putArgs(
        { threadId, ns: "" },
        { values: { n: 1 }, versions: { n: 1 }, changed: ["n"], parentId: null },
      );
      await saver.put(args);
      const [alone, batched] = await Promise.all([
        saver.getTuple({ threadId, ns: "" }),
        saver.getTuple({ threadId: threadId.replace(/[\ud800-\udfff]/, "\ufffd"), ns: "" }),
      ]);
      expect(alone?.checkpoint.id).toBe(args.checkpoint.id);
      expect(batched?.checkpoint.id).toBe(args.checkpoint.id);
    }
  });

  it("filter on metadata.writes is matched exactly, outside the index", async () => {
    const found = [];
    for await (const tuple of saver.list(target, { filter: { writes: null }, limit: 3 }))
      found.push(tuple.checkpoint.id);
    expect(found).toEqual(targetIds.slice(-3).reverse());
  });
});

describe("the hot queries are served by indexes (EXPLAIN)", () => {
  const s = () => `"${schema.current.name}"`;

  it("latest checkpoint of a thread: heads and checkpoints primary keys, blob and write keys", async () => {
    const plan = await explain(readHeadsSql(s()), [JSON.stringify([[target.threadId, target.ns]])]);
    expect(plan.seqScans).toEqual([]);
    expect(plan.indexes).toEqual(
      expect.arrayContaining(["checkpoint_blobs_pkey", "checkpoint_heads_pkey", "checkpoints_pkey"]),
    );
    // A batch of heads probes the same keys, once per thread.
    const batch = await explain(readHeadsSql(s()), [
      JSON.stringify(targetKeys.map((k) => [k.threadId, k.ns])),
    ]);
    expect(batch.seqScans).toEqual([]);
    expect(batch.indexes).toEqual(expect.arrayContaining(["checkpoint_heads_pkey", "checkpoints_pkey"]));
  });

  it("a batch of head reads is planned once per connection, not on every call", async () => {
    const client = await pool.connect();
    try {
      const saverOnOne = new PostgresSaver({
        pool: client as unknown as pg.Pool,
        schema: schema.current.name,
      });
      for (let i = 0; i < 8; i++) {
        const keys = targetKeys.slice(0, 1 + (i % 5));
        await Promise.all(keys.map((key) => saverOnOne.getTuple(key)));
      }
      const { rows } = await client.query(
        "SELECT generic_plans, custom_plans FROM pg_prepared_statements WHERE name LIKE 'layover_read_heads%'",
      );
      // Postgres tries five custom plans, then keeps the generic one when it costs no more.
      expect(rows).toEqual([{ generic_plans: expect.any(String), custom_plans: "5" }]);
      expect(Number(rows[0].generic_plans)).toBeGreaterThan(0);
    } finally {
      client.release();
    }
  });

  it("checkpoint by id", async () => {
    const plan = await explain(readByIdSql(s()), [target.threadId, target.ns, targetIds[20]]);
    expect(plan.seqScans).toEqual([]);
    expect(plan.indexes).toEqual(expect.arrayContaining(["checkpoint_blobs_pkey", "checkpoints_pkey"]));
  });

  it("history newest first, with before and limit", async () => {
    const page = await explain(pickPageSql(s()), [target.threadId, target.ns, targetIds[30], null, 10]);
    expect(page).toEqual({ seqScans: [], indexes: ["checkpoint_heads_pkey", "checkpoints_pkey"] });
    const whole = await explain(readPageSql(s()), [target.threadId, target.ns, targetIds[30], null, 10]);
    expect(whole.seqScans).toEqual([]);
  });

  it("history with a metadata filter", async () => {
    const plan = await explain(pickPageSql(s()), [
      target.threadId,
      target.ns,
      null,
      '{"source":"input"}',
      10,
    ]);
    expect(plan.seqScans).toEqual([]);
    expect(plan.indexes.some((name) => name.startsWith("checkpoints_"))).toBe(true);
  });
});
