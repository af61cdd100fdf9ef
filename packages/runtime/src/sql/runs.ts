// Runs: one per start or resume of a thread.
import type { ReadAlong } from "@layover/checkpoint-postgres";
import type { Durability } from "@layover/graph";
import { batchedRead, type Db, type Queryable } from "../db.ts";
import type { RunStreamMode } from "../run-stream.ts";
import { INTERRUPT_COLUMNS, type InterruptRow, interruptFromJson, jsonDate } from "./interrupts.ts";

export type RunStatus = "pending" | "running" | "success" | "interrupted" | "error" | "cancelled";
export const FINISHED: ReadonlySet<RunStatus> = new Set(["success", "error", "cancelled"]);

export interface RunRow {
  id: string;
  thread_id: string;
  graph_id: string;
  kind: "start" | "resume";
  status: RunStatus;
  input: RunInput;
  error: { name: string; message: string; code?: string } | null;
  idempotency_key: string | null;
  prepared: boolean;
  checkpoint_id: string | null;
  steps: number;
  started_by: string | null;
  last_worker: string | null;
  parked_by: string | null;
  finished_by: string | null;
  created_at: Date;
  started_at: Date | null;
  finished_at: Date | null;
  updated_at: Date;
}

/**
 * The columns of RunRow, listed rather than `*` in prepared statements: a later migration that
 * adds a column must not change the result of a statement a running process has prepared.
 */
export const RUN_COLUMNS = [
  "id",
  "thread_id",
  "graph_id",
  "kind",
  "status",
  "input",
  "error",
  "idempotency_key",
  "prepared",
  "checkpoint_id",
  "steps",
  "started_by",
  "last_worker",
  "parked_by",
  "finished_by",
  "created_at",
  "started_at",
  "finished_at",
  "updated_at",
] as const satisfies readonly (keyof RunRow)[];

/** RUN_COLUMNS as a select list, each qualified with `alias` when given. */
export function runColumns(alias?: string): string {
  return RUN_COLUMNS.map((c) => (alias ? `${alias}.${c}` : c)).join(", ");
}

/** What a start may set of how its run executes (LangGraph's config keys). */
export interface RunConfig {
  recursionLimit?: number;
  /**
   * "exit" stores one checkpoint per job instead of one per superstep (see @layover/graph).
   * It applies to this run only, as LangGraph's applies to one invoke: a resume sets its own
   * (`threads.resume(…, { durability })`), else takes the graph's (the worker module's).
   */
  durability?: Durability;
  /** @deprecated LangGraph's older spelling: `false` is `durability: "exit"`. */
  checkpointDuring?: boolean;
  /** Pause before these nodes (or "*": every superstep) in this run, as LangGraph's invoke option. */
  interruptBefore?: string[] | "*";
  /** Pause after these nodes' superstep in this run, as LangGraph's invoke option. */
  interruptAfter?: string[] | "*";
  /**
   * Run-scoped values the graph's nodes read as `config.context` (LangGraph's context): JSON,
   * stored with the run. A resume given none (the timeout sweep's, an operator's) or a continue
   * gets the thread's latest start's; `threads.resume(…, { context })` sets its own.
   */
  context?: unknown;
  /**
   * What the run's workers report as it runs, for `runs.stream` (LangGraph's `streamMode`):
   * nothing is reported for a run given none.
   */
  streamMode?: RunStreamMode | RunStreamMode[];
  /**
   * Subgraphs stream too (LangGraph's `streamSubgraphs`): a subgraph's parts come with the
   * event `"<mode>|<namespace>"`, such as `"updates|child:<taskId>"`.
   */
  streamSubgraphs?: boolean;
}

/** What a continue's run may be given (`threads.continue(id, { context })`): a resume's run options. */
export type ContinueConfig = Pick<RunConfig, "streamMode" | "streamSubgraphs" | "context" | "durability">;

export type RunInput =
  | { input: unknown; config?: RunConfig }
  | { resume: Record<string, unknown>; update?: Record<string, unknown>; config?: RunConfig }
  /** Past a static breakpoint (interruptBefore / interruptAfter), with an update as its input. */
  | { continue: true; update?: Record<string, unknown>; config?: ContinueConfig }
  /**
   * Past a static breakpoint with an update counted as `asNode`'s output. Not a `continue`: a
   * worker older than asNode reads a continue and would run the node the person skipped; this
   * it cannot read, and fails the run instead.
   */
  | { asNode: string; update?: Record<string, unknown>; config?: ContinueConfig }
  /**
   * From an older checkpoint of the thread (time travel): a fork, with an update (counted as
   * `asNode`'s output when given) or none (a replay). Its own key, not a `continue`: a worker
   * older than forks would go on from the head instead; this it cannot read, and fails the run.
   */
  | {
      fork: { checkpointId: string; asNode?: string };
      update?: Record<string, unknown>;
      config?: ContinueConfig;
    };

export async function insertRun(
  db: Db,
  q: Queryable,
  run: Pick<RunRow, "id" | "thread_id" | "graph_id" | "kind" | "input" | "idempotency_key" | "checkpoint_id">,
): Promise<void> {
  await q.query(
    `INSERT INTO ${db.table("runs")} (id, thread_id, graph_id, kind, input, idempotency_key, checkpoint_id, prepared)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
    [
      run.id,
      run.thread_id,
      run.graph_id,
      run.kind,
      JSON.stringify(run.input),
      run.idempotency_key,
      run.checkpoint_id,
      false,
    ],
  );
}

export async function getRun(db: Db, q: Queryable, id: string): Promise<RunRow | undefined> {
  const { rows } = await q.query<RunRow>(
    db.prepared("get_run", `SELECT ${runColumns()} FROM ${db.table("runs")} WHERE id = $1`, [id]),
  );
  return rows[0];
}

/**
 * `table`'s rows whose id is in $1, a json array of ids: a primary-key probe per id (LATERAL …
 * OFFSET 0, whatever the planner guesses of the list's length). Json rather than a uuid[]: the
 * planner estimates an array parameter's length from its value and would plan the statement
 * anew on every call; a json list has one estimate, so the plan is made once per connection.
 */
export function byIds(db: Db, table: string, param = "$1"): string {
  return `json_array_elements_text(${param}::json) AS asked(id)
    CROSS JOIN LATERAL (SELECT * FROM ${db.table(table)} WHERE id = asked.id::uuid OFFSET 0)`;
}

export type RunWithPending = { run: RunRow; pending: InterruptRow[] };

/**
 * Runs and, for each one parked, its thread's pending interrupts (in the order asked), in one
 * statement: what a producer's wait reads once the run has settled (runs primary key, then
 * interrupts_thread_status).
 */
/** The select of readRunsWithPending, its ids in `param`. */
function runsWithPendingSql(db: Db, param: string): string {
  return `SELECT ${runColumns("r")}, CASE WHEN r.status = 'interrupted' THEN (
         SELECT coalesce(json_agg(i ORDER BY i.asked_order, i.created_at, i.id), '[]'::json) FROM (
           SELECT ${INTERRUPT_COLUMNS.join(", ")} FROM ${db.table("interrupts")}
            WHERE thread_id = r.thread_id AND status = 'pending') i
       ) END AS pending_interrupts
         FROM ${byIds(db, "runs", param)} r`;
}

type RunWithPendingRow = RunRow & { pending_interrupts: Record<string, unknown>[] | null };

function withPending({ pending_interrupts: pending, ...run }: RunWithPendingRow): RunWithPending {
  return { run, pending: (pending ?? []).map(interruptFromJson) };
}

async function readRunsWithPending(db: Db, ids: readonly string[]): Promise<Map<string, RunWithPending>> {
  const { rows } = await db.pool.query<RunWithPendingRow>(
    db.prepared("runs_with_pending", runsWithPendingSql(db, "$1"), [JSON.stringify(ids)]),
  );
  return new Map(rows.map((row) => [row.id, withPending(row)]));
}

/** A run as json (row_to_json) as the driver would have given it: its times as Dates. */
export function runFromJson<T extends RunRow>(row: Record<string, unknown>): T {
  return {
    ...(row as unknown as T),
    created_at: jsonDate(row.created_at) as Date,
    started_at: jsonDate(row.started_at),
    finished_at: jsonDate(row.finished_at),
    updated_at: jsonDate(row.updated_at) as Date,
  };
}

/**
 * The rows of `select` (its ids in $2) as one json object by id: what a ReadAlong selects to
 * be read with thread heads (PostgresSaver.getTupleAlong).
 */
export function keyedById(select: string): string {
  return `SELECT json_object_agg(x.id, row_to_json(x)) FROM (${select}) x`;
}

/** Each value of a keyedById object, converted. */
export function splitKeyed<V>(
  selected: unknown,
  convert: (row: Record<string, unknown>) => V,
): Map<string, V> {
  const rows = (selected ?? {}) as Record<string, Record<string, unknown>>;
  return new Map(Object.entries(rows).map(([id, row]) => [id, convert(row)]));
}

/** `build`'s ReadAlong for each Db, made once (its SQL names the Db's schema). */
export function alongPerDb<R>(build: (db: Db) => ReadAlong<R>): (db: Db) => ReadAlong<R> {
  const made = new WeakMap<Db, ReadAlong<R>>();
  return (db) => {
    let along = made.get(db);
    if (along === undefined) {
      along = build(db);
      made.set(db, along);
    }
    return along;
  };
}

/** readRunsWithPending as a read along with thread heads: a wait's run with its thread's values. */
export const runWithPendingAlong = alongPerDb<RunWithPending>((db) => ({
  name: "runtime_runs_with_pending",
  sql: keyedById(runsWithPendingSql(db, "$2")),
  split: (selected) => splitKeyed(selected, (row) => withPending(runFromJson<RunWithPendingRow>(row))),
}));

/**
 * A run and, parked, its thread's pending interrupts; undefined if there is no such run. Waits
 * asked at the same time share one statement.
 */
export function getRunWithPending(db: Db, id: string): Promise<RunWithPending | undefined> {
  // Postgres answers with lower-case ids: the key must be asked for as it comes back.
  return batchedRead(db, "runs_with_pending", (ids) => readRunsWithPending(db, ids))(id.toLowerCase());
}

/** A run created with this idempotency key on the thread (served by runs_idempotency). */
export async function runByIdempotencyKey(db: Db, q: Queryable, threadId: string, key: string) {
  const { rows } = await q.query<RunRow>(
    `SELECT * FROM ${db.table("runs")} WHERE thread_id = $1 AND idempotency_key = $2`,
    [threadId, key],
  );
  return rows[0];
}

/** Applies a status change and bookkeeping columns (only the ones given). */
export async function updateRun(
  db: Db,
  q: Queryable,
  id: string,
  change: Partial<
    Pick<
      RunRow,
      | "status"
      | "error"
      | "prepared"
      | "checkpoint_id"
      | "started_by"
      | "last_worker"
      | "parked_by"
      | "finished_by"
      | "started_at"
      | "finished_at"
    >
  > & { addSteps?: number },
): Promise<void> {
  const { addSteps = 0, ...columns } = change;
  const entries = Object.entries(columns);
  const sets = entries.map(([column], i) => `${column} = $${i + 3}`);
  const values = entries.map(([column, value]) => (column === "error" ? JSON.stringify(value) : value));
  await q.query(
    `UPDATE ${db.table("runs")} SET ${[...sets, "steps = steps + $2", "updated_at = now()"].join(", ")} WHERE id = $1`,
    [id, addSteps, ...values],
  );
}

/**
 * Runs that should have a job: pending at the head of their thread, running, or cancelled but
 * still holding their thread (a job hands it on: releaseCancelled). Oldest first by
 * (updated_at, id), a page of `limit` after the row `after` names (its `cursor`: updated_at as
 * Postgres's text, to the microsecond, which a JS Date would round to the millisecond). Served
 * by the partial indexes runs_active and runs_holding_cancelled, whose predicates (`(…) IS
 * TRUE`) the status tests here repeat word for word: no other query can use them
 * (migrations/0008, 0012). A cancelled run is marked released once it lets its thread go, so
 * the runs cancelled before cost this nothing.
 */
export async function activeRuns(
  db: Db,
  olderThanMs: number,
  limit: number,
  after?: { cursor: string; id: string },
): Promise<Array<RunRow & { cursor: string }>> {
  const holding = (predicate: string) =>
    `SELECT ${runColumns("r")}, r.updated_at::text AS cursor
       FROM ${db.table("runs")} r JOIN ${db.table("threads")} t ON t.id = r.thread_id
      WHERE (${predicate}) IS TRUE AND r.updated_at < now() - make_interval(secs => $1 / 1000.0)
        AND t.current_run_id = r.id
        AND ($3::timestamptz IS NULL OR (r.updated_at >= $3 AND (r.updated_at, r.id) > ($3, $4::uuid)))`;
  const { rows } = await db.pool.query<RunRow & { cursor: string }>(
    `${holding("r.status IN ('pending', 'running')")}
     UNION ALL ${holding("r.status = 'cancelled' AND r.released_at IS NULL")}
     ORDER BY updated_at, id LIMIT $2`,
    [olderThanMs, limit, after?.cursor ?? null, after?.id ?? null],
  );
  return rows;
}

/** A thread's runs, oldest first (runs_thread_created). */
export async function threadRuns(db: Db, threadId: string): Promise<RunRow[]> {
  const { rows } = await db.pool.query<RunRow>(
    `SELECT * FROM ${db.table("runs")} WHERE thread_id = $1 ORDER BY created_at, id`,
    [threadId],
  );
  return rows;
}
