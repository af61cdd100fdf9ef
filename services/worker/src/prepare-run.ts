import type { CheckpointTuple } from "@layover/checkpoint";
import {
  byInterruptId,
  Command,
  type HeadInfo,
  InvalidInputError,
  isLayoverError,
  RESUME,
  type Stepper,
} from "@layover/graph";
import type { RunRow } from "@layover/runtime";

/**
 * Records a run's input (start), answers (resume), breakpoint pass (continue) or fork (a continue
 * from an older checkpoint) on the head the stepper holds, exactly once even when the job is delivered again: a head this run already
 * wrote (every checkpoint a run commits carries its id), or a resume whose answers are already
 * pending writes, records nothing.
 */
export async function prepareRun(stepper: Stepper, run: RunRow): Promise<void> {
  const head = await stepper.head();
  const continues = "continue" in run.input || "asNode" in run.input || "fork" in run.input;
  if (head?.metadata.run_id === run.id) {
    // A continue's update is its own checkpoint, the breakpoint pass a write after it: a delivery
    // that stopped between the two passes it now (a second pass records nothing).
    if (continues && isUpdateHead(head)) await stepper.prepare(null);
    return;
  }
  if ("input" in run.input) {
    await stepper.prepare(run.input.input);
    return;
  }
  if ("fork" in run.input) {
    // From an older checkpoint: the update (or none) forks from it, and the fork is the head.
    const { fork, update } = run.input;
    await stepper.rewind(fork.checkpointId);
    if (fork.asNode !== undefined) await stepper.prepareUpdate(update ?? null, fork.asNode);
    else await stepper.prepare(update === undefined ? null : new Command({ update }));
    return;
  }
  // Passing a static breakpoint is idempotent in the engine: a second pass records nothing.
  if ("asNode" in run.input) {
    // No update: the node ran and wrote nothing, as updateState(config, null, asNode) records it.
    await stepper.prepareUpdate(run.input.update ?? null, run.input.asNode);
    return;
  }
  if ("continue" in run.input) {
    const { update } = run.input;
    await stepper.prepare(update === undefined ? null : new Command({ update }));
    return;
  }
  if (!("resume" in run.input) || typeof run.input.resume !== "object" || run.input.resume === null)
    throw new InvalidInputError(
      `Run ${run.id}'s input holds no input, answers or breakpoint pass (a start whose input was undefined, which JSON stored as {}; clients refuse it now): it cannot run.`,
    );
  const ids = Object.keys(run.input.resume);
  if (head !== undefined && answersRecorded(head, ids)) return;
  const command = new Command({
    // The client recorded them by the ids it found pending: an id gone since is refused, not an answer.
    resume: byInterruptId(run.input.resume),
    ...(run.input.update ? { update: run.input.update } : {}),
  });
  try {
    await stepper.prepare(command);
  } catch (error) {
    // The engine refuses answers it already holds: a concurrent delivery of this job recorded
    // them first (the stepper reloads the head after the error). Anything else is a failure.
    if (!isLayoverError(error, "NOT_INTERRUPTED") && !isLayoverError(error, "UNKNOWN_INTERRUPT")) throw error;
    const reloaded = await stepper.head();
    if (reloaded?.metadata.run_id === run.id || (reloaded && answersRecorded(reloaded, ids))) return;
    throw error;
  }
}

/**
 * The checkpoint a continue's update committed (as `asNode`: "update"; as input: "input"; from an
 * older checkpoint: "fork"), not a superstep of its run.
 */
function isUpdateHead(head: HeadInfo): boolean {
  const { source } = head.metadata;
  return source === "update" || source === "input" || source === "fork";
}

function answersRecorded(head: HeadInfo | CheckpointTuple, ids: readonly string[]): boolean {
  return ids.every((id) => head.pendingWrites.some((w) => w.channel === RESUME && w.taskId === id));
}
