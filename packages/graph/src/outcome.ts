// What a task's run comes to, and the interrupts it asks: types the engine's modules share
// (kept apart from interrupt() and the task runner, which reach the running task's context).
import type { Write } from "./algo/apply-writes.ts";
import type { PlannedTask } from "./algo/plan.ts";

/** A pending interrupt, as `invoke` returns it under `__interrupt__` and snapshots show it. */
export interface Interrupt<V = any> {
  id: string;
  value: V;
  /** The timeout given to `interrupt()`, in milliseconds. */
  timeoutMs?: number;
  /** The value the node gets when the timeout passes. */
  onTimeout?: unknown;
  /** JSON Schema of the resume value (from the zod schema given to `interrupt()`). */
  resumeSchema?: Record<string, unknown>;
}

export type TaskOutcome =
  | { kind: "done"; writes: Write[]; output: unknown }
  | { kind: "interrupted"; interrupts: Interrupt[] }
  | { kind: "failed"; error: unknown };

/**
 * A failed task its node's error handler ran for: the handler's task (its outcome is the failed
 * task's), and what the node threw (an Error rebuilt from what was stored, after a pause).
 */
export interface HandledBy {
  task: PlannedTask;
  error: unknown;
}

/**
 * A task's outcome in a superstep: `cached` when it had finished (or paused) before the superstep
 * ran again (its writes are pending writes already), `hit` when the node cache gave its writes,
 * `handledBy` when it is the outcome of the failed task's error handler.
 */
export type Outcome = TaskOutcome & { cached?: boolean; hit?: boolean; handledBy?: HandledBy };
