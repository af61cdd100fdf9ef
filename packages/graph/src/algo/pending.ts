import type { PendingWrite } from "@layover/checkpoint";
import {
  BREAKPOINT,
  ERROR,
  ERROR_SOURCE,
  INPUT_TASK_ID,
  INTERRUPT,
  NO_WRITES,
  RESUME,
} from "../constants.ts";
import type { Interrupt } from "../outcome.ts";
import type { Write } from "./apply-writes.ts";
import type { PlannedTask } from "./plan.ts";

/** What a checkpoint's pending writes say about the superstep that follows it. */
export interface PendingState {
  /** Successful writes per task id (in idx order). */
  done: Map<string, Write[]>;
  /** Pending interrupts per task id. */
  interrupts: Map<string, Interrupt[]>;
  errors: Map<string, unknown>;
  /**
   * Failed tasks whose node's error handler ran (their ids): such a task's done writes and
   * interrupts are its handler's. (The marker's value, the handler's name, is for readers; the
   * graph's handler for the node now is the one that runs.)
   */
  handled: Set<string>;
  /** Resume values recorded for this checkpoint, by interrupt id. */
  resume: Map<string, unknown>;
  /** Writes given with a resume (`Command({ resume, update })`), applied before the tasks run. */
  input: Write[];
  /** A continue (`invoke(null)`) was recorded here: the static breakpoint before these tasks is passed. */
  breakpointPassed: boolean;
}

/** Sorts a checkpoint's pending writes into their meanings, without I/O. */
export function readPendingWrites(writes: readonly PendingWrite[]): PendingState {
  const state: PendingState = {
    done: new Map(),
    interrupts: new Map(),
    errors: new Map(),
    handled: new Set(),
    resume: new Map(),
    input: [],
    breakpointPassed: false,
  };
  const sorted = [...writes].sort((a, b) => a.idx - b.idx);
  for (const write of sorted) {
    switch (write.channel) {
      case RESUME:
        state.resume.set(write.taskId, write.value);
        break;
      case INTERRUPT:
        state.interrupts.set(write.taskId, write.value as Interrupt[]);
        break;
      case ERROR:
        state.errors.set(write.taskId, write.value);
        break;
      case ERROR_SOURCE:
        state.handled.add(write.taskId);
        break;
      case BREAKPOINT:
        state.breakpointPassed = true;
        break;
      case NO_WRITES:
        if (!state.done.has(write.taskId)) state.done.set(write.taskId, []);
        break;
      default:
        if (write.taskId === INPUT_TASK_ID) state.input.push([write.channel, write.value]);
        else {
          const list = state.done.get(write.taskId);
          if (list === undefined) state.done.set(write.taskId, [[write.channel, write.value]]);
          else list.push([write.channel, write.value]);
        }
    }
  }
  return state;
}

/**
 * Interrupts still waiting for an answer, in task order: those of tasks that have not
 * finished, minus the ones a resume value was recorded for.
 */
export function unresolvedInterrupts(
  tasks: readonly PlannedTask[],
  pending: PendingState,
  resume: ReadonlyMap<string, unknown> = pending.resume,
): Interrupt[] {
  const open: Interrupt[] = [];
  for (const task of tasks) {
    if (pending.done.has(task.id)) continue;
    for (const record of pending.interrupts.get(task.id) ?? []) {
      if (!resume.has(record.id)) open.push(record);
    }
  }
  return open;
}

/** True when a task must run (again): it has no result yet, and if it is paused, one of its interrupts got an answer. */
export function taskNeedsRun(
  task: PlannedTask,
  pending: PendingState,
  resume: ReadonlyMap<string, unknown>,
): boolean {
  if (pending.done.has(task.id)) return false;
  const interrupts = pending.interrupts.get(task.id);
  if (interrupts === undefined) return true;
  return interrupts.some((record) => resume.has(record.id));
}
