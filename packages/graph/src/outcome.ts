// What a task's run comes to, and the interrupts it asks: types the engine's modules share
// (kept apart from interrupt() and the task runner, which reach the running task's context).
import type { Write } from "./algo/apply-writes.ts";

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
