// The sweep's plan on real Postgres: claiming due interrupts reads the partial index
// interrupts_pending_deadline, never all the parked interrupts, and no step of a batch scans a
// whole table — whatever the statistics think is due. A plan check, not a timing: the timing
// is bench/sweep (1,000,000 parked, 10,000 due).
import { randomUUID } from "node:crypto";
import {
  claimDueThreadsQuery,
  createDb,
  type Db,
  dueInterruptsQuery,
  expireClaimedQuery,
  migrateRuntime,
} from "@layover/runtime";
import { createTestSchema, type TestSchema } from "@layover/testing";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

const PARKED = 20_000;
const DUE = 1_500;
const BATCH = 1_000;

interface PlanNode {
  "Node Type": string;
  "Index Name"?: string;
  "Relation Name"?: string;
  "Join Filter"?: string;
  Plans?: PlanNode[];
}

function nodes(plan: PlanNode): PlanNode[] {
  return [plan, ...(plan.Plans ?? []).flatMap(nodes)];
}

let schema: TestSchema;
let pool: pg.Pool;
let db: Db;

async function plan(sql: string, values: unknown[]): Promise<PlanNode[]> {
  const { rows } = await pool.query(`EXPLAIN (FORMAT JSON) ${sql}`, values);
  return nodes(rows[0]["QUERY PLAN"][0].Plan);
}

/** Every plan of a batch: the claiming query, the claim (with its lock) and the expiry. */
async function batchPlans() {
  const claim = await plan(dueInterruptsQuery(db), [BATCH]);
  const lock = await plan(claimDueThreadsQuery(db), [BATCH]);
  const { rows } = await pool.query<{ thread_id: string }>(
    `SELECT thread_id FROM ${db.table("interrupts")} WHERE graph_id = 'due' LIMIT ${BATCH}`,
  );
  const ids = rows.map((r) => r.thread_id);
  const runs = Object.fromEntries(ids.map((id) => [id, { run: randomUUID(), graph: "due" }]));
  const expire = await plan(expireClaimedQuery(db), [ids, JSON.stringify(runs)]);
  return { claim, lock, expire };
}

const seqScans = (plan: PlanNode[]) =>
  plan.filter((n) => n["Node Type"] === "Seq Scan").map((n) => n["Relation Name"] as string);

/**
 * The claiming query reads interrupts_pending_deadline and nothing else; no step of the batch
 * scans interrupts (the table of every parked interrupt). `strict`: no sequential scan at all
 * (threads included: at this size a scan of 20,000 threads can be the cheaper plan once the
 * statistics know 1,000 are due; bench/sweep shows threads_pkey at 1,000,000).
 */
function expectIndexedBatch(plans: Awaited<ReturnType<typeof batchPlans>>, strict: boolean) {
  const claimIndexes = plans.claim.filter((n) => n["Index Name"] !== undefined).map((n) => n["Index Name"]);
  expect(claimIndexes).toEqual(["interrupts_pending_deadline"]);
  expect(seqScans(plans.claim)).toEqual([]);
  expect(plans.lock.map((n) => n["Index Name"])).toContain("interrupts_pending_deadline");
  const scanned = seqScans([...plans.lock, ...plans.expire]);
  expect(scanned).not.toContain("interrupts");
  // Joins go through an index or a hash: a nested loop with a join filter compares every
  // claimed thread with every due interrupt (quadratic, and the statistics cannot warn of it).
  const filtered = [...plans.lock, ...plans.expire].filter((n) => n["Join Filter"] !== undefined);
  expect(filtered.map((n) => `${n["Node Type"]}: ${n["Join Filter"]}`)).toEqual([]);
  if (strict) {
    expect(plans.lock.map((n) => n["Index Name"])).toContain("threads_pkey");
    expect(scanned).toEqual([]);
  }
}

beforeAll(async () => {
  schema = await createTestSchema("sweep_plan");
  pool = new pg.Pool({ connectionString: schema.url, max: 2 });
  await migrateRuntime(pool, { schema: schema.name });
  db = createDb(pool, schema.name);
  // Parked threads: most wait for a deadline 1 h to 30 days away, one in ten for none.
  await pool.query(
    `INSERT INTO ${db.table("threads")} (id, graph_id, status)
     SELECT 'parked-' || g, 'parked', 'interrupted' FROM generate_series(1, $1::int) g`,
    [PARKED],
  );
  await pool.query(
    `INSERT INTO ${db.table("interrupts")} (thread_id, id, run_id, graph_id, task_id, node, checkpoint_id, deadline)
     SELECT 'parked-' || g, 'i', gen_random_uuid(), 'parked', 't', 'ask', 'c',
            CASE WHEN g % 10 = 0 THEN NULL ELSE now() + interval '1 hour' + random() * interval '30 days' END
       FROM generate_series(1, $1::int) g`,
    [PARKED],
  );
}, 60_000);

afterAll(async () => {
  await pool?.end();
  await schema?.drop();
});

describe("the sweep's plan", () => {
  it("claims through interrupts_pending_deadline when the statistics were taken before anything fell due", async () => {
    await pool.query(`ANALYZE ${db.table("threads")}, ${db.table("interrupts")}`);
    // Due since the last ANALYZE: the planner believes next to nothing is due.
    await pool.query(
      `UPDATE ${db.table("interrupts")} SET deadline = now() - interval '1 second', graph_id = 'due'
        WHERE thread_id IN (SELECT 'parked-' || g FROM generate_series(1, $1::int) g WHERE g % 10 <> 0)`,
      [Math.ceil((DUE * 10) / 9)],
    );
    expectIndexedBatch(await batchPlans(), true);
  });

  it("and when the statistics know how many are due", async () => {
    await pool.query(`ANALYZE ${db.table("threads")}, ${db.table("interrupts")}`);
    expectIndexedBatch(await batchPlans(), false);
  });
});
