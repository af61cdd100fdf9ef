// Storing what a superstep that did not commit leaves (a task paused or failed): its head, the
// answers it was given and its tasks' writes; or, when that cannot be stored, the failure.
import type { PutCheckpointArgs } from "@layover/checkpoint";
import type { PlannedTask } from "./algo/plan.ts";
import { holdsAsync, stored, unappliable } from "./commit.ts";
import type { LoadedHead, WriteBatch } from "./head.ts";
import type { Interrupt } from "./interrupt.ts";
import { pendingOf, storePaused } from "./pause.ts";
import type { StepEnv, StepResult } from "./step-env.ts";
import { storedWrites } from "./untracked.ts";

/** Stores batches of pending writes against `checkpointId`, one putWrites per task. */
export async function saveWrites(
  env: StepEnv,
  checkpointId: string,
  batches: readonly WriteBatch[],
): Promise<void> {
  await Promise.all(
    batches.map(({ taskId, writes }) =>
      env.saver.putWrites({ ...env.key, checkpointId, taskId, writes: storedWrites(env.spec, writes) }),
    ),
  );
}

/** No commit consumes the answers this superstep was given (`head.unsaved`): store them now. */
async function saveUnsaved(env: StepEnv, head: LoadedHead): Promise<void> {
  if (head.unsaved === undefined) return;
  await saveWrites(env, head.checkpoint.id, head.unsaved);
  delete head.unsaved;
}

/**
 * A pause stored in one statement with the supersteps held before it, if any (`env.storePause`,
 * see storePaused): true. False without a storePause; the failure when they cannot be stored (a
 * value JSON cannot hold).
 */
export async function storeHeldPause(
  env: StepEnv,
  head: LoadedHead,
  tasks: PlannedTask[],
  partial: readonly WriteBatch[],
  interrupts: Interrupt[],
): Promise<boolean | StepResult> {
  if (env.storePause === undefined || !holdsAsync(env)) return false;
  try {
    return await storePaused(env, env.storePause, head, tasks, partial, interrupts);
  } catch (error) {
    if (unappliable(error)) return failedAt(env, head, error);
    throw error;
  }
}

/**
 * Stores what a superstep that did not commit leaves: its head, the answers it was given and its
 * tasks' writes. The failure when they cannot be stored (a task's result JSON cannot hold): the
 * superstep fails with it, at `head`.
 */
export async function keepPartial(env: StepEnv, head: LoadedHead, partial: readonly WriteBatch[]) {
  const unstorable = await storeOrFail(env, head);
  if (unstorable !== undefined) return unstorable;
  try {
    await saveUnsaved(env, head);
    await persistPartial(env, head, partial);
    return undefined;
  } catch (error) {
    if (!unappliable(error)) throw error;
    return { status: "failed", head, error } satisfies StepResult;
  }
}

/** Stores what the tasks of a superstep that did not commit did, as the head's pending writes. */
export async function persistPartial(env: StepEnv, head: LoadedHead, batches: readonly WriteBatch[]) {
  await saveWrites(env, head.checkpoint.id, batches);
  head.pendingWrites.push(...pendingOf(batches));
}

/** The superstep from `head` failed as a whole: nothing of it is committed, the answers it was given are kept. */
export async function failedAt(env: StepEnv, head: LoadedHead, error: unknown): Promise<StepResult> {
  const reached = await stored(env, head);
  await saveUnsaved(env, reached.head);
  return { status: "failed", head: reached.head, error: reached.error ?? error };
}

/** Stores `head` if it is held in memory only; the failed result when its supersteps cannot be stored. */
export async function storeOrFail(
  env: StepEnv,
  head: LoadedHead,
  put: ((chain: readonly PutCheckpointArgs[]) => Promise<void>) | undefined = undefined,
): Promise<StepResult | undefined> {
  const reached = await stored(env, head, put);
  return reached.error === undefined ? undefined : failedAt(env, reached.head, reached.error);
}
