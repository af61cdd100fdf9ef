import type { CheckpointTuple } from "@layover/checkpoint";
import { InvalidInputError, tasksOfCheckpoint } from "@layover/graph";
import { RunNotFoundError, ThreadNotFoundError } from "../errors.ts";
import { isStorableId, shown, shownTyped } from "../keys.ts";
import { checkpointState } from "../run-result.ts";
import { type InterruptRow, threadInterrupts } from "../sql/interrupts.ts";
import { getRunWithPending, type RunRow, type RunWithPending } from "../sql/runs.ts";
import { getThread, type ThreadRow } from "../sql/threads.ts";
import { isUuid } from "../uuid.ts";
import type { ClientContext } from "./context.ts";
import { objectArg, optionsArg } from "./object-arg.ts";
import { registeredGraph } from "./start-run.ts";

/** A pending interrupt as producers see it: the value and what `interrupt()` was given. */
export interface PendingInterrupt {
  id: string;
  value: unknown;
  node: string;
  createdAt: Date;
  deadline: Date | null;
  timeoutMs?: number;
  onTimeout?: unknown;
  resumeSchema?: Record<string, unknown>;
}

export function toPendingInterrupt(row: InterruptRow): PendingInterrupt {
  return {
    id: row.id,
    value: row.value,
    node: row.node,
    createdAt: row.created_at,
    deadline: row.deadline,
    ...row.options,
  };
}

/** The user's state in a checkpoint: its channel values without the engine's own channels. */
export function stateValues(tuple: CheckpointTuple | undefined): Record<string, unknown> {
  return checkpointState(tuple?.checkpoint);
}

/**
 * A thread's state as the producer sees it, read from Postgres (no graph code needed): the
 * engine's StateSnapshot shape (`values`, `next`, `tasks`, `config`, `parentConfig`,
 * `metadata`, `createdAt`) plus the runtime's `status` and `graphId`. `next` and `tasks` list
 * the nodes waiting for an answer; with none to answer, the nodes the thread runs next (at a
 * static breakpoint, after a failure, while it runs). As in the engine's, `next` names each
 * task's node, once per task: three Send branches of one node waiting are three entries.
 */
export interface ThreadState {
  threadId: string;
  graphId: string;
  status: ThreadRow["status"];
  values: Record<string, unknown>;
  next: string[];
  tasks: Array<{ id: string; name: string; interrupts: PendingInterrupt[] }>;
  config: { configurable: { thread_id: string; checkpoint_ns: string; checkpoint_id?: string } };
  parentConfig:
    | { configurable: { thread_id: string; checkpoint_ns: string; checkpoint_id: string } }
    | undefined;
  metadata: CheckpointTuple["metadata"] | undefined;
  createdAt: string | undefined;
}

function configOf(threadId: string, checkpointId: string | undefined) {
  return {
    configurable: {
      thread_id: threadId,
      checkpoint_ns: "",
      ...(checkpointId ? { checkpoint_id: checkpointId } : {}),
    },
  };
}

/** The tasks `tuple` (a thread's head) plans, as the engine's getState lists them: by the graph's registration. */
export function plannedTasks(tuple: CheckpointTuple, graph: Awaited<ReturnType<typeof registeredGraph>>) {
  return tasksOfCheckpoint(
    tuple.checkpoint,
    tuple.metadata,
    "",
    graph?.options.nodes,
    graph?.options.deferred && new Set(graph.options.deferred),
  );
}

export async function readThread(ctx: ClientContext, threadId: string): Promise<ThreadState> {
  if (!isStorableId(threadId)) throw new ThreadNotFoundError(String(threadId));
  const thread = await getThread(ctx.db, ctx.db.pool, threadId);
  if (thread === undefined) throw new ThreadNotFoundError(threadId);
  const [tuple, pending, graph] = await Promise.all([
    ctx.saver.getTuple({ threadId, ns: "" }),
    threadInterrupts(ctx.db, ctx.db.pool, threadId, "pending"),
    registeredGraph(ctx, thread.graph_id),
  ]);
  const byTask = new Map<string, { id: string; name: string; interrupts: PendingInterrupt[] }>();
  for (const row of pending) {
    const task = byTask.get(row.task_id) ?? { id: row.task_id, name: row.node, interrupts: [] };
    task.interrupts.push(toPendingInterrupt(row));
    byTask.set(row.task_id, task);
  }
  // Nothing to answer (a static breakpoint, a failed or running superstep): the tasks the head
  // plans, as the engine's getState lists them.
  const tasks =
    byTask.size > 0 || tuple === undefined
      ? [...byTask.values()]
      : plannedTasks(tuple, graph).map((task) => ({ ...task, interrupts: [] }));
  return {
    threadId,
    graphId: thread.graph_id,
    status: thread.status,
    values: stateValues(tuple),
    next: tasks.map((t) => t.name),
    tasks,
    config: configOf(threadId, tuple?.checkpoint.id),
    parentConfig: tuple?.parentId
      ? { configurable: { thread_id: threadId, checkpoint_ns: "", checkpoint_id: tuple.parentId } }
      : undefined,
    metadata: tuple?.metadata,
    createdAt: tuple?.checkpoint.ts,
  };
}

/** threads.history's options, as LangGraph's getStateHistory's. */
export interface HistoryOptions {
  /** Most checkpoints to read. @defaultValue every one */
  limit?: number;
  /** Only checkpoints older than this one (a snapshot's `checkpointId`): the next page. */
  before?: string;
  /** Only checkpoints whose metadata has these top-level values (`{ source: "input" }`). */
  filter?: Record<string, unknown>;
}

const HISTORY_OPTIONS = ["limit", "before", "filter"] as const satisfies readonly (keyof HistoryOptions)[];

export async function* threadHistory(ctx: ClientContext, threadId: string, options: HistoryOptions = {}) {
  const { limit, before, filter } = optionsArg(
    options,
    "threads.history's options",
    "{ limit: 10 }",
    HISTORY_OPTIONS,
  );
  // Else a negative or NaN limit reads nothing, and a fractional one fails in Postgres.
  if (limit !== undefined && !(Number.isSafeInteger(limit) && limit > 0))
    throw new InvalidInputError(
      `threads.history: limit must be a whole number above 0, or left out for every checkpoint; got ${shownTyped(limit)}.`,
    );
  if (before !== undefined && typeof before !== "string")
    throw new InvalidInputError(
      `threads.history: before must be a checkpoint id (a snapshot's checkpointId), or left out; got ${shown(before)}.`,
    );
  objectArg(filter, "threads.history's filter", '{ source: "input" }');
  if (!isStorableId(threadId)) return; // as for a thread never started: no checkpoints
  let graph: ReturnType<typeof threadsGraph> | undefined;
  for await (const tuple of ctx.saver.list({ threadId, ns: "" }, { limit, before, filter })) {
    graph ??= threadsGraph(ctx, threadId);
    yield {
      checkpointId: tuple.checkpoint.id,
      parentId: tuple.parentId,
      values: stateValues(tuple),
      // The nodes it plans, as a snapshot's next: where threads.continue({ checkpointId }) goes on.
      next: plannedTasks(tuple, await graph).map((task) => task.name),
      metadata: tuple.metadata,
      createdAt: tuple.checkpoint.ts,
    };
  }
}

/** The registration of the thread's graph, as its workers last registered it (undefined: none). */
async function threadsGraph(ctx: ClientContext, threadId: string) {
  const thread = await getThread(ctx.db, ctx.db.pool, threadId);
  return thread === undefined ? undefined : registeredGraph(ctx, thread.graph_id);
}

export interface RunResult {
  runId: string;
  threadId: string;
  status: RunRow["status"];
  values: Record<string, unknown>;
  /** The run's thread's pending interrupts (status "interrupted"). */
  interrupts: PendingInterrupt[];
  error: RunRow["error"];
}

/** A settled run's result: its thread's head is read; `pending` came with the run. */
export async function readRunResult(ctx: ClientContext, found: RunWithPending): Promise<RunResult> {
  const tuple = await ctx.saver.getTuple({ threadId: found.run.thread_id, ns: "" });
  return runResult(found.run, tuple, found.pending);
}

/** A run's result from its row, its thread's head and (parked) the thread's pending interrupts. */
export function runResult(
  run: RunRow,
  tuple: CheckpointTuple | undefined,
  pending: readonly InterruptRow[],
): RunResult {
  return {
    runId: run.id,
    threadId: run.thread_id,
    status: run.status,
    values: stateValues(tuple),
    interrupts: pending.map(toPendingInterrupt),
    error: run.error,
  };
}

/** The run and, parked, its thread's pending interrupts (one statement); RunNotFoundError if none. */
export async function requireRun(ctx: ClientContext, runId: string): Promise<RunWithPending> {
  if (!isUuid(runId)) throw new RunNotFoundError(runId);
  const found = await getRunWithPending(ctx.db, runId);
  if (found === undefined) throw new RunNotFoundError(runId);
  return found;
}

/** A run's bookkeeping, as operators and demos read it. */
export function runInfo(run: RunRow) {
  return {
    runId: run.id,
    threadId: run.thread_id,
    graphId: run.graph_id,
    kind: run.kind,
    status: run.status,
    steps: run.steps,
    startedBy: run.started_by,
    parkedBy: run.parked_by,
    finishedBy: run.finished_by,
    createdAt: run.created_at,
    startedAt: run.started_at,
    finishedAt: run.finished_at,
  };
}
