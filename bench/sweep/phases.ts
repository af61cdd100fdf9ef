// The benchmark's steps: park real threads, add filler, make the real ones due, show the plan,
// then sweep and wait for every resume to finish.
import { randomUUID } from "node:crypto";
import {
  claimDueThreadsQuery,
  type Dispatcher,
  dueInterruptsQuery,
  expireClaimedQuery,
  sweepExpiredInterrupts,
} from "@layover/runtime";
import type { Deployment } from "./deployment.ts";
import { WAIT_ID } from "./graphs.ts";

type Log = (line: string) => void;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const seconds = (ms: number) => (ms / 1000).toFixed(1);

async function count(d: Deployment, sql: string, values: unknown[] = []): Promise<number> {
  const { rows } = await d.pool.query<{ n: number }>(sql, values);
  return rows[0]?.n ?? 0;
}

/**
 * Starts `n` runs of the waiting graph through the client (at most `inFlight` starts at once)
 * and waits until every one is parked on its interrupt. Returns the milliseconds it took.
 */
export async function parkRealThreads(d: Deployment, n: number, inFlight: number, log: Log): Promise<number> {
  const watch = await d.watchRuns();
  try {
    const started = performance.now();
    let next = 0;
    let lastLog = started;
    const progress = () => {
      if (performance.now() - lastLog < 2_000) return;
      lastLog = performance.now();
      log(
        `  parking: ${next.toLocaleString("en-US")} started, ${watch.count("interrupted").toLocaleString("en-US")} parked`,
      );
    };
    await Promise.all(
      Array.from({ length: inFlight }, async () => {
        while (next < n) {
          next++;
          await d.client.runs.start({ graphId: WAIT_ID, input: { request: `booking ${next}` } });
          progress();
        }
      }),
    );
    while (watch.count("interrupted") < n) {
      if (watch.count("error") > 0) throw new Error(`runs of ${WAIT_ID} failed instead of parking`);
      progress();
      await sleep(50);
    }
    // Postgres is the truth: the events said so, the rows must too.
    const parked = await count(
      d,
      `SELECT count(*)::int AS n FROM ${d.db.table("interrupts")} WHERE graph_id = $1 AND status = 'pending'`,
      [WAIT_ID],
    );
    if (parked !== n) throw new Error(`${parked} of ${n} threads parked`);
    return performance.now() - started;
  } finally {
    await watch.close();
  }
}

/**
 * Adds `n` parked threads set-based (threads and interrupts rows, generate_series, in chunks):
 * pending interrupts whose deadline is 1 h to 30 days away, one in ten without a deadline.
 */
export async function insertFiller(d: Deployment, n: number, log: Log): Promise<number> {
  const started = performance.now();
  const chunk = 110_000;
  for (let from = 1; from <= n; from += chunk) {
    const to = Math.min(n, from + chunk - 1);
    await d.pool.query(
      `INSERT INTO ${d.db.table("threads")} (id, graph_id, status, current_run_id, head_checkpoint)
       SELECT 'filler-' || g, 'sweep-filler', 'interrupted', gen_random_uuid(), 'filler-checkpoint'
         FROM generate_series($1::int, $2::int) g`,
      [from, to],
    );
    await d.pool.query(
      `INSERT INTO ${d.db.table("interrupts")}
         (thread_id, id, run_id, graph_id, task_id, node, checkpoint_id, value, options, created_at, deadline)
       SELECT 'filler-' || g, md5(g::text), gen_random_uuid(), 'sweep-filler', md5('task' || g), 'ask',
              'filler-checkpoint', '{"question": "approve?"}', '{"timeoutMs": 2592000000}',
              now() - random() * interval '7 days',
              CASE WHEN g % 10 = 0 THEN NULL
                   ELSE now() + interval '1 hour' + random() * interval '30 days' END
         FROM generate_series($1::int, $2::int) g`,
      [from, to],
    );
    log(`  filler: ${to.toLocaleString("en-US")} / ${n.toLocaleString("en-US")} parked threads inserted`);
  }
  return performance.now() - started;
}

/** The real threads' interrupts fall due (the clock moved on by their timeout): returns how many. */
export async function makeDue(d: Deployment): Promise<number> {
  const { rowCount } = await d.pool.query(
    `UPDATE ${d.db.table("interrupts")} SET deadline = now() - interval '1 second'
      WHERE graph_id = $1 AND status = 'pending'`,
    [WAIT_ID],
  );
  return rowCount ?? 0;
}

export interface Plans {
  /** EXPLAIN (ANALYZE, BUFFERS) of the claiming query, text. */
  claim: string;
  /** EXPLAIN (ANALYZE, BUFFERS) of one whole batch (claim, then expire), rolled back. */
  batch: string;
  /** Indexes the claiming query reads, by scan type ("Bitmap Index Scan on interrupts_pending_deadline"). */
  claimScans: string[];
  /** Sequential scans anywhere in the claiming query or the batch (should be none). */
  seqScans: string[];
  claimMs: number;
  claimSharedBuffers: number;
  /** Server execution time of the batch's two statements. */
  batchMs: number;
}

interface PlanNode {
  "Node Type": string;
  "Index Name"?: string;
  "Relation Name"?: string;
  "Shared Hit Blocks"?: number;
  "Shared Read Blocks"?: number;
  Plans?: PlanNode[];
}

interface Explained {
  Plan: PlanNode;
  "Execution Time": number;
}

function* nodes(plan: PlanNode): Generator<PlanNode> {
  yield plan;
  for (const child of plan.Plans ?? []) yield* nodes(child);
}

/** The plans of the claiming query and of one whole batch, measured (the batch rolled back). */
export async function explain(d: Deployment, batchSize: number): Promise<Plans> {
  const client = await d.pool.connect();
  // EXPLAIN ANALYZE executes the statement: the JSON run is undone before the text one.
  const run = async (sql: string, values: unknown[]) => {
    await client.query("SAVEPOINT explain");
    const { rows } = await client.query(`EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) ${sql}`, values);
    await client.query("ROLLBACK TO SAVEPOINT explain");
    const text = await client.query(`EXPLAIN (ANALYZE, BUFFERS) ${sql}`, values);
    return {
      json: rows[0]["QUERY PLAN"][0] as Explained,
      // The claimed ids, inlined as a constant array, would fill the screen.
      text: text.rows
        .map((r) =>
          (r["QUERY PLAN"] as string).replace(
            /'\{[^}]{200,}\}'/g,
            (ids) => `'{…${ids.split(",").length} ids…}'`,
          ),
        )
        .join("\n"),
    };
  };
  try {
    await client.query("BEGIN");
    const claim = await run(dueInterruptsQuery(d.db), [batchSize]);
    // The batch as expireDueInterrupts runs it (EXPLAIN ANALYZE executes it: rolled back below).
    const locked = await run(claimDueThreadsQuery(d.db), [batchSize]);
    const { rows: claimed } = await client.query<{ id: string; graph_id: string }>(
      claimDueThreadsQuery(d.db),
      [batchSize],
    );
    const runs = Object.fromEntries(claimed.map((t) => [t.id, { run: randomUUID(), graph: t.graph_id }]));
    const expire = await run(expireClaimedQuery(d.db), [claimed.map((t) => t.id), JSON.stringify(runs)]);
    await client.query("ROLLBACK");
    const all = [claim, locked, expire].flatMap((p) => [...nodes(p.json.Plan)]);
    return {
      claim: claim.text,
      batch: [`-- 1. claim (${claimed.length} threads)`, locked.text, "-- 2. expire", expire.text].join("\n"),
      claimScans: [...nodes(claim.json.Plan)]
        .filter((n) => n["Index Name"] !== undefined)
        .map((n) => `${n["Node Type"]} on ${n["Index Name"]}`),
      seqScans: all
        .filter((n) => n["Node Type"] === "Seq Scan")
        .map((n) => `Seq Scan on ${n["Relation Name"]}`),
      claimMs: claim.json["Execution Time"],
      claimSharedBuffers:
        (claim.json.Plan["Shared Hit Blocks"] ?? 0) + (claim.json.Plan["Shared Read Blocks"] ?? 0),
      batchMs: locked.json["Execution Time"] + expire.json["Execution Time"],
    };
  } catch (error) {
    await client.query("ROLLBACK").catch(() => {});
    throw error;
  } finally {
    client.release();
  }
}

export interface SweepResult {
  /** Threads the sweep resumed. */
  resumed: number;
  /** From the first sweep call until every due interrupt is expired and its resume enqueued. */
  sweepMs: number;
  /** The part of sweepMs spent in BullMQ addBulk (the rest: the sweep's Postgres transactions). */
  enqueueMs: number;
  /** From the first sweep call until every resume run has finished (status success). */
  finishedMs: number;
  /** Resume runs that ended success, in Postgres (should be all). */
  success: number;
  /** Resume runs that ended in error (should be none). */
  errors: number;
  /** Interrupts expired by the sweep with the documented timeout rejection (should be all). */
  rejected: number;
  /** 50 random threads are idle and their node saw isTimeoutRejection(answer). */
  sampleOk: boolean;
}

/**
 * Sweeps (as the scheduler's sweep job does) and waits for all `due` resumes to succeed. With
 * `isolate`, the workers are paused while the sweep runs (its own cost, not shared with them).
 */
export async function sweepAndFinish(
  d: Deployment,
  due: number,
  batchSize: number,
  isolate: boolean,
  log: Log,
): Promise<SweepResult> {
  const watch = await d.watchRuns();
  try {
    // The time the sweep spends handing resumes to BullMQ; the rest is Postgres.
    let enqueueMs = 0;
    const dispatcher: Dispatcher = {
      ...d.dispatcher,
      async enqueueMany(jobs) {
        const t = performance.now();
        try {
          await d.dispatcher.enqueueMany(jobs);
        } finally {
          enqueueMs += performance.now() - t;
        }
      },
    };
    // Isolated: the workers take no job until the sweep is done, so it has the machine to itself.
    if (isolate) await d.pauseWorkers(true);
    const started = performance.now();
    let resumed = 0;
    // One call handles up to batchSize × maxBatches; loop like successive scheduler ticks would.
    while (resumed < due) {
      const n = await sweepExpiredInterrupts(d.db, dispatcher, { batchSize, maxBatches: 1_000 });
      if (n === 0) break;
      resumed += n;
    }
    const sweepMs = performance.now() - started;
    if (isolate) await d.pauseWorkers(false);
    log(
      `  swept: ${resumed.toLocaleString("en-US")} interrupts expired and enqueued in ${seconds(sweepMs)} s ` +
        `(${seconds(enqueueMs)} s of it enqueueing)`,
    );
    let lastLog = performance.now();
    while (watch.count("success") + watch.count("error") < resumed) {
      if (performance.now() - started > 180_000)
        throw new Error(`resumes not finished after 180 s: ${watch.count("success")} of ${resumed}`);
      if (performance.now() - lastLog > 1_000) {
        lastLog = performance.now();
        log(
          `  finishing: ${watch.count("success").toLocaleString("en-US")} resumes done at ${seconds(performance.now() - started)} s`,
        );
      }
      await sleep(10);
    }
    const finishedMs = performance.now() - started;
    const { rows } = await d.pool.query<{ success: number; error: number }>(
      `SELECT count(*) FILTER (WHERE status = 'success')::int AS success,
              count(*) FILTER (WHERE status = 'error')::int AS error
         FROM ${d.db.table("runs")} WHERE kind = 'resume' AND graph_id = $1`,
      [WAIT_ID],
    );
    const counts = rows[0] ?? { success: 0, error: 0 };
    // Every interrupt expired by the sweep with the timeout rejection; a sample of threads shows
    // the node got it (timedOut = isTimeoutRejection(answer)) and the thread is idle again.
    const rejected = await count(
      d,
      `SELECT count(*)::int AS n FROM ${d.db.table("interrupts")}
      WHERE graph_id = $1 AND status = 'expired' AND resolved_by = 'timeout'
        AND resume_value ->> 'reason' = 'timeout'`,
      [WAIT_ID],
    );
    const { rows: sample } = await d.pool.query<{ id: string }>(
      `SELECT id FROM ${d.db.table("threads")} WHERE graph_id = $1 ORDER BY random() LIMIT 50`,
      [WAIT_ID],
    );
    const states = await Promise.all(sample.map((t) => d.client.threads.get(t.id)));
    const sampleOk = states.every((s) => s.status === "idle" && s.values.timedOut === true);
    return {
      resumed,
      sweepMs,
      enqueueMs,
      finishedMs,
      success: counts.success,
      errors: counts.error,
      rejected,
      sampleOk,
    };
  } finally {
    await watch.close();
  }
}
