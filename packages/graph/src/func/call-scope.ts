// A superstep's calls of `task()` functions (the functional API), as LangGraph's: each call is a
// task of the superstep with an id of its own, derived from the task that made it and the call's
// place among its calls. A call that finishes keeps its result as a pending write when the
// superstep pauses or fails; when the superstep runs again (a resume, a retry), the same call
// gives that result back instead of running again. What a call asks (`interrupt()` inside it)
// is asked by the task it was made under.
import type { Write } from "../algo/apply-writes.ts";
import type { PendingState } from "../algo/pending.ts";
import type { PlannedTask } from "../algo/plan.ts";
import { RETURN } from "../constants.ts";
import type { GraphCache } from "../graph/cache-policy.ts";
import type { WriteBatch } from "../head.ts";
import type { Interrupt, Outcome, TaskOutcome } from "../outcome.ts";

export interface CallScope {
  /** Results of calls that finished before the superstep ran again (its pending writes), by call id. */
  stored: ReadonlyMap<string, readonly Write[]>;
  /** Calls that finished in this run of the superstep, by id: kept when it pauses or fails. */
  finished: Map<string, unknown>;
  /** What calls asked, by the superstep's task they were made under: that task asks it. */
  asked: Map<string, Interrupt[]>;
  /** The first error a call failed with, by the superstep's task it was made under. */
  failed: Map<string, unknown>;
  /** Calls still running, and results still being stored: the superstep waits for them before it ends. */
  running: Set<Promise<unknown>>;
  /**
   * Stores a finished call's result as a pending write of the superstep's head as soon as it
   * finishes, so a process that dies later does not run the call again (durability "sync" and
   * "async"; undefined under "exit" and without a checkpointer: kept when the superstep pauses
   * or fails). `blocking`: the caller gets the result once it is stored ("sync").
   */
  keep?: { store: (taskId: string, value: unknown) => Promise<void>; blocking: boolean } | undefined;
  /** Calls whose results `keep` stored: not stored again when the superstep pauses. */
  kept: Set<string>;
  /** The graph's node cache, where tasks with a cachePolicy keep their results. */
  cache?: GraphCache | undefined;
  /**
   * Told when a call starts, and when it ends or gives back a result it had (the run's stream);
   * `notRun` when it does not run (the cache answered it, or it gives back its kept result).
   */
  started?: ((call: PlannedTask, notRun?: boolean) => void) | undefined;
  ended?:
    | ((call: PlannedTask, outcome: TaskOutcome & { cached?: boolean; hit?: boolean }) => void)
    | undefined;
}

/** A superstep's scope for calls, from its head's pending writes. */
export function callScope(
  pending: PendingState,
  options: Pick<CallScope, "started" | "ended" | "keep" | "cache"> = {},
): CallScope {
  return {
    stored: pending.done,
    finished: new Map(),
    asked: new Map(),
    failed: new Map(),
    running: new Set(),
    kept: new Set(),
    ...options,
  };
}

/**
 * Records a finished call's result, and stores it (see CallScope.keep): resolves once the caller
 * may have it — at once, or once stored when storing blocks. The superstep waits for a store
 * that does not block before it ends; a store that fails fails the superstep.
 */
export async function finishCall(scope: CallScope, taskId: string, value: unknown): Promise<void> {
  scope.finished.set(taskId, value);
  if (scope.keep === undefined) return;
  const storing = scope.keep.store(taskId, value).then(() => void scope.kept.add(taskId));
  if (scope.keep.blocking) return storing;
  scope.running.add(storing);
  void storing.then(
    () => scope.running.delete(storing),
    () => undefined, // settleCalls reports it
  );
}

/** The result a call's writes hold, when they are a call's. */
export function returnedBy(writes: readonly Write[]): { value: unknown } | undefined {
  const write = writes.find(([channel]) => channel === RETURN);
  return write === undefined ? undefined : { value: write[1] };
}

/**
 * Waits until no call is running (a call may make more), then adds what calls asked to the
 * outcome of the task each was made under: a task stopped by its call's interrupt asks every
 * question its calls asked, its own ones after them, each once. A task that paused while one of
 * its calls failed fails with that call's error, as LangGraph's (the pause would hide it).
 */
export function settleCalls(
  scope: CallScope,
  tasks: readonly PlannedTask[],
  outcomes: Outcome[],
): Promise<void> | undefined {
  // Most supersteps make no call: nothing to wait for.
  if (scope.running.size === 0 && scope.asked.size === 0 && scope.failed.size === 0) return undefined;
  return settled(scope, tasks, outcomes);
}

async function settled(scope: CallScope, tasks: readonly PlannedTask[], outcomes: Outcome[]): Promise<void> {
  while (scope.running.size > 0) await Promise.all([...scope.running]);
  if (scope.asked.size === 0 && scope.failed.size === 0) return;
  tasks.forEach((task, i) => {
    const outcome = outcomes[i];
    if (outcome?.kind !== "interrupted") return;
    // A failed task's error handler made the calls, under its own id; its outcome stays marked.
    const handled = outcome.handledBy === undefined ? {} : { handledBy: outcome.handledBy };
    const id = outcome.handledBy?.task.id ?? task.id;
    if (scope.failed.has(id)) {
      outcomes[i] = { kind: "failed", error: scope.failed.get(id), ...handled };
      return;
    }
    const asked = scope.asked.get(id);
    if (asked === undefined) return;
    const byId = new Map([...asked, ...outcome.interrupts].map((record) => [record.id, record]));
    outcomes[i] = { kind: "interrupted", interrupts: [...byId.values()], ...handled };
  });
}

/** The results of calls that finished in this run of the superstep, as pending writes. */
export function callBatches(scope: CallScope): WriteBatch[] {
  return [...scope.finished]
    .filter(([taskId]) => !scope.kept.has(taskId))
    .map(([taskId, value]) => ({ taskId, writes: [[RETURN, value, 0]] }));
}
