import type { CheckpointSaver, CheckpointTuple } from "@layover/checkpoint";
import {
  Command,
  type CompiledStateGraph,
  isLayoverError,
  RESUME,
  type RunnableConfig,
} from "@layover/graph";
import type { RunRow } from "@layover/runtime";

/**
 * Records a run's input (start) or answers (resume) on the thread's checkpoints, exactly once
 * even when the job is delivered twice: a start whose input checkpoint already carries this
 * run's id, or a resume whose answers are already pending writes, is not recorded again.
 * Returns the checkpoint the run advances from.
 */
export async function prepareRun(
  graph: CompiledStateGraph<any, any>,
  saver: CheckpointSaver,
  run: RunRow,
  config: RunnableConfig,
): Promise<string> {
  const key = { threadId: run.thread_id, ns: "" };
  if ("input" in run.input) {
    const head = await saver.getTuple(key);
    if (head?.metadata.run_id === run.id) return head.checkpoint.id;
    return (await graph.prepare(run.input.input, config)).checkpointId;
  }
  // Passing a static breakpoint is idempotent in the engine: a second pass records nothing.
  if ("continue" in run.input) return (await graph.prepare(null, config)).checkpointId;
  const ids = Object.keys(run.input.resume);
  const command = new Command({
    resume: run.input.resume,
    ...(run.input.update ? { update: run.input.update } : {}),
  });
  try {
    return (await graph.prepare(command, config)).checkpointId;
  } catch (error) {
    // The engine refuses answers it already holds: a second delivery of this job (or a
    // concurrent one) recorded them first. Anything else is a real failure.
    if (!isLayoverError(error, "NOT_INTERRUPTED") && !isLayoverError(error, "UNKNOWN_INTERRUPT")) throw error;
    const head = await saver.getTuple(key);
    if (head !== undefined && answersRecorded(head, ids)) return head.checkpoint.id;
    throw error;
  }
}

function answersRecorded(head: CheckpointTuple, ids: readonly string[]): boolean {
  return ids.every((id) => head.pendingWrites.some((w) => w.channel === RESUME && w.taskId === id));
}
