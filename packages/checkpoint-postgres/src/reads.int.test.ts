import type { CheckpointKey } from "@layover/checkpoint";
import { useTestSchema } from "@layover/testing/vitest";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { migrate } from "./migrate.ts";
import { PostgresSaver } from "./postgres-saver.ts";
import { pickPageSql, readByIdSql, readHeadSql, readPageSql } from "./sql/read-checkpoints.ts";
import { newKey, putArgs } from "./test-support/checkpoints.ts";

const schema = useTestSchema("reads");
let pool: pg.Pool;
let saver: PostgresSaver;
const THREADS = 40;
const STEPS = 60;
let target: CheckpointKey;
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
    const plan = await explain(readHeadSql(s()), [target.threadId, target.ns]);
    expect(plan.seqScans).toEqual([]);
    expect(plan.indexes).toEqual(
      expect.arrayContaining(["checkpoint_blobs_pkey", "checkpoint_heads_pkey", "checkpoints_pkey"]),
    );
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
