// A superstep that does not commit (a task paused or failed) keeps what its tasks did as pending
// writes. A worker holding "async" supersteps stores those writes, the held supersteps and its
// own record of the pause in one statement (StepperOptions.storePause).
import type { PendingWrite, PutCheckpointArgs, PutWritesArgs } from "@layover/checkpoint";
import { type PendingState, readPendingWrites, unresolvedInterrupts } from "./algo/pending.ts";
import type { PlannedTask } from "./algo/plan.ts";
import { type StoreEnv, storeHead } from "./commit.ts";
import { ERROR, ERROR_SOURCE, INTERRUPT, NO_WRITES, SPECIAL_WRITE_IDX } from "./constants.ts";
import { errorRecord } from "./error-record.ts";
import type { LoadedHead, WriteBatch } from "./head.ts";
import type { Interrupt } from "./interrupt.ts";
import type { Outcome } from "./outcome.ts";
import { storedWrites } from "./untracked.ts";

/** A task waiting for answers: which task and node asked, and what is still unanswered. */
export interface WaitingTask {
  id: string;
  name: string;
  interrupts: Interrupt[];
}

/** What a run pausing stores about itself beside the checkpoints (a worker's park). */
export interface Pause {
  /** The checkpoint the run pauses at: the chain's last. */
  checkpointId: string;
  interrupts: Interrupt[];
  waiting: WaitingTask[];
}

/**
 * Stores a pause: the held supersteps (oldest first; none when the head the run pauses at is
 * stored already), the pending writes of the head, and the caller's own record, with put's
 * contract (all or nothing, CheckpointConflictError).
 */
export type StorePause = (
  chain: readonly PutCheckpointArgs[],
  writes: readonly PutWritesArgs[],
  pause: Pause,
) => Promise<void>;

/** Tasks of `tasks` waiting for an answer, given the checkpoint's pending writes. */
export function waitingOf(tasks: readonly PlannedTask[], pending: PendingState): WaitingTask[] {
  return tasks
    .map((task) => ({ id: task.id, name: task.name, interrupts: unresolvedInterrupts([task], pending) }))
    .filter((task) => task.interrupts.length > 0);
}

/**
 * What each task of a superstep that did not commit leaves: its writes, its interrupts or its
 * error; a failed task its error handler ran for, its error, the handler's name and the
 * handler's writes or interrupts.
 */
export function partialBatches(tasks: readonly PlannedTask[], outcomes: readonly Outcome[]): WriteBatch[] {
  const batches: WriteBatch[] = [];
  outcomes.forEach((outcome, i) => {
    if (outcome.cached) return;
    const taskId = (tasks[i] as PlannedTask).id;
    const handled = outcome.handledBy;
    const writes: WriteBatch["writes"] =
      handled === undefined
        ? []
        : [
            [ERROR, errorRecord(handled.error), SPECIAL_WRITE_IDX[ERROR]],
            [ERROR_SOURCE, handled.task.name, SPECIAL_WRITE_IDX[ERROR_SOURCE]],
          ];
    if (outcome.kind === "done") {
      const done = outcome.writes.length ? outcome.writes : [[NO_WRITES, null] as const];
      writes.push(...done.map(([channel, value], idx): [string, unknown, number] => [channel, value, idx]));
    } else if (outcome.kind === "interrupted") {
      writes.push([INTERRUPT, outcome.interrupts, SPECIAL_WRITE_IDX[INTERRUPT]]);
    } else if (handled === undefined) {
      writes.push([ERROR, errorRecord(outcome.error), SPECIAL_WRITE_IDX[ERROR]]);
    }
    batches.push({ taskId, writes });
  });
  return batches;
}

/** `batches` as the head's pending writes. */
export function pendingOf(batches: readonly WriteBatch[]): PendingWrite[] {
  return batches.flatMap(({ taskId, writes }) =>
    writes.map(([channel, value, idx]) => ({ taskId, channel, value, idx })),
  );
}

/**
 * Stores a run pausing at `head` — its held supersteps, if any, the answers it was given
 * (`unsaved`) and its tasks' writes (`partial`) — through `storePause`, in one statement. On
 * success the head holds the writes as pending.
 */
export async function storePaused(
  env: StoreEnv,
  put: StorePause,
  head: LoadedHead,
  tasks: readonly PlannedTask[],
  partial: readonly WriteBatch[],
  interrupts: Interrupt[],
): Promise<boolean> {
  const batches = [...(head.unsaved ?? []), ...partial];
  const pendingWrites = [...head.pendingWrites, ...pendingOf(partial)];
  const pause: Pause = {
    checkpointId: head.checkpoint.id,
    interrupts,
    waiting: waitingOf(tasks, readPendingWrites(pendingWrites)),
  };
  const writes = batches.map(({ taskId, writes }) => ({
    ...env.key,
    checkpointId: head.checkpoint.id,
    taskId,
    writes: storedWrites(env.spec, writes),
  }));
  let used = false;
  await storeHead(env, head, (chain) => {
    used = true;
    return put(chain, writes, pause);
  });
  // The head was stored already (a background store got there first): the writes go alone.
  if (!used) await put([], writes, pause);
  head.pendingWrites = pendingWrites;
  delete head.unsaved;
  return true;
}
