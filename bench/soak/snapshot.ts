// What the deployment holds once it settled, read once for the invariants: runs, threads,
// interrupts, forks in the checkpoint chains, each ledger thread's values and BullMQ's jobs.
import type { SoakFleet } from "./fleet.ts";
import type { Ledger } from "./ledger.ts";

export interface RunRow {
  id: string;
  thread_id: string;
  kind: "start" | "resume";
  status: string;
  /** A resume's answers: interrupt id → value. */
  resume: Record<string, unknown> | null;
  /** When it last changed (finished, else parked or later touched): a stream's end comes after it. */
  settled_at: Date;
}

export interface InterruptRow {
  thread_id: string;
  id: string;
  status: string;
  deadline: Date | null;
  resume_value: unknown;
  resume_run_id: string | null;
}

export interface Snapshot {
  runs: RunRow[];
  threadStatus: Map<string, string>;
  interrupts: InterruptRow[];
  /** Checkpoints with more than one child, as "thread/ns/parent". */
  forks: string[];
  /** Ledger thread → its values as `threads.get` reads them. */
  values: Map<string, Record<string, unknown>>;
  /** BullMQ jobs yet to end, by the run they advance. */
  jobs: Array<{ runId: string; state: string }>;
  failedJobs: number;
}

async function readForks(fleet: SoakFleet): Promise<string[]> {
  const s = fleet.deployment.schema;
  const { rows } = await fleet.pool.query<{ thread_id: string; ns: string; parent_id: string }>(
    `SELECT k.thread_id, k.ns, c.parent_id FROM "${s}".checkpoints c
       JOIN "${s}".checkpoint_heads k USING (key_id)
      WHERE c.parent_id IS NOT NULL
      GROUP BY k.thread_id, k.ns, c.key_id, c.parent_id HAVING count(*) > 1`,
  );
  return rows.map((r) => `${r.thread_id}/${r.ns}/${r.parent_id}`);
}

async function readJobs(fleet: SoakFleet) {
  const states = ["waiting", "active", "delayed", "prioritized", "waiting-children"] as const;
  const jobs: Array<{ runId: string; state: string }> = [];
  for (const state of states)
    for (const job of await fleet.queue.getJobs([state]))
      if (job) jobs.push({ runId: String(job.data?.runId), state });
  return { jobs, failedJobs: await fleet.queue.getJobCountByTypes("failed") };
}

/**
 * Statistics for the deployment's tables first: where autovacuum is off (as on a test server)
 * they were never analyzed, the planner guesses past jit_above_cost, and every threads.get
 * below JIT-compiles (~30 ms each, minutes over a long soak's threads).
 */
async function analyze(fleet: SoakFleet): Promise<void> {
  const { rows } = await fleet.pool.query<{ name: string }>(
    `SELECT quote_ident(relname) AS name FROM pg_class WHERE relnamespace = $1::regnamespace AND relkind = 'r'`,
    [fleet.deployment.schema],
  );
  for (const { name } of rows) await fleet.pool.query(`ANALYZE "${fleet.deployment.schema}".${name}`);
}

export async function readSnapshot(fleet: SoakFleet, ledger: Ledger): Promise<Snapshot> {
  const s = fleet.deployment.schema;
  await analyze(fleet);
  const { rows: runs } = await fleet.pool.query<RunRow>(
    `SELECT id, thread_id, kind, status, input->'resume' AS resume,
            coalesce(finished_at, updated_at) AS settled_at FROM "${s}".runs`,
  );
  const { rows: threads } = await fleet.pool.query<{ id: string; status: string }>(
    `SELECT id, status FROM "${s}".threads`,
  );
  const { rows: interrupts } = await fleet.pool.query<InterruptRow>(
    `SELECT thread_id, id, status, deadline, resume_value, resume_run_id FROM "${s}".interrupts`,
  );
  const values = new Map<string, Record<string, unknown>>();
  const threadIds = [...ledger.threads.keys()];
  // Eight reads at a time, spread over both clients' pools: a long soak has tens of thousands.
  const lane = async (lane: number) => {
    for (let i = lane; i < threadIds.length; i += 8) {
      const threadId = threadIds[i] as string;
      const state = await fleet.clients[lane % 2 === 0 ? 0 : 1].threads.get(threadId).catch(() => undefined);
      values.set(threadId, (state?.values ?? {}) as Record<string, unknown>);
    }
  };
  await Promise.all(Array.from({ length: 8 }, (_, i) => lane(i)));
  return {
    runs,
    threadStatus: new Map(threads.map((t) => [t.id, t.status])),
    interrupts,
    forks: await readForks(fleet),
    values,
    ...(await readJobs(fleet)),
  };
}
