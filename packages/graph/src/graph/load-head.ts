// Where a run on a thread starts: its latest checkpoint, or an older one (time travel), whose
// first commit then forks from the thread's actual head.
import type { CheckpointTuple } from "@layover/checkpoint";
import { CheckpointNotFoundError } from "../errors.ts";
import { headFromTuple, type LoadedHead } from "../head.ts";
import type { StepEnv } from "../step.ts";

/** The thread's head, or its older checkpoint `checkpointId` to replay or fork from. */
export async function loadHead(
  env: StepEnv,
  checkpointId: string | undefined,
): Promise<LoadedHead | undefined> {
  return headAt(env, await env.saver.getTuple(env.key), checkpointId);
}

/** The head to work from: `latest` (the thread's head), or its older checkpoint `checkpointId`. */
export async function headAt(
  env: StepEnv,
  latest: CheckpointTuple | undefined,
  checkpointId: string | undefined,
): Promise<LoadedHead | undefined> {
  if (checkpointId === undefined || checkpointId === latest?.checkpoint.id)
    return latest && headFromTuple(latest);
  const older = await env.saver.getTuple({ ...env.key, checkpointId });
  if (older === undefined) throw new CheckpointNotFoundError(env.key.threadId, checkpointId);
  // Replaying from an older checkpoint: its tasks run again; the first commit forks from the head.
  return { ...headFromTuple(older, latest), pendingWrites: [] };
}
