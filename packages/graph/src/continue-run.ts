import {
  type Checkpoint,
  type CheckpointMetadata,
  newCheckpointId,
  type PendingWrite,
} from "@layover/checkpoint";
import { breakpointAhead } from "./algo/breakpoints.ts";
import { readPendingWrites } from "./algo/pending.ts";
import { type Command, gotoList } from "./command.ts";
import { BREAKPOINT, SPECIAL_WRITE_IDX } from "./constants.ts";
import type { LoadedHead, WriteBatch } from "./head.ts";
import { plannedTasks, type StepEnv } from "./step.ts";

/**
 * Replaying from an older checkpoint: commits a copy of it as the thread's new head (source
 * "fork"), so whatever the replay records before its first commit — an interrupt, a static
 * breakpoint, a failed task — belongs to the head, where getState and a later resume find it.
 * The copy keeps the original's channel versions (a saver stores no value again) except one
 * channel, renumbered above every version the thread has used: the head must hold the thread's
 * highest version, or a later commit from a reloaded head could reuse one of the abandoned
 * branch's versions.
 */
async function forkFrom(env: StepEnv, head: LoadedHead): Promise<LoadedHead> {
  const source = head.checkpoint;
  const marker = Object.keys(source.channelVersions).find((c) => source.channelValues[c] !== undefined);
  const channelVersions = { ...source.channelVersions };
  if (marker !== undefined) channelVersions[marker] = head.versionFloor + 1;
  const checkpoint: Checkpoint = {
    ...source,
    channelVersions,
    id: newCheckpointId(),
    ts: new Date().toISOString(),
  };
  const metadata: CheckpointMetadata = {
    ...env.metadata,
    source: "fork",
    step: head.metadata.step,
    writes: null,
  };
  await env.saver.put({
    ...env.key,
    checkpoint,
    metadata,
    parentId: source.id,
    expectedHead: head.expectedHead,
    changedChannels: marker === undefined ? [] : [marker],
  });
  const versionFloor = head.versionFloor + 1;
  return {
    checkpoint,
    metadata,
    parentId: source.id,
    pendingWrites: [],
    expectedHead: checkpoint.id,
    versionFloor,
  };
}

/**
 * Records that a continue (`invoke(null)`) passes the static breakpoint in front of the head's
 * tasks — whether the run stopped there or the head is new (after `updateState`, or a fork) —
 * so the superstep that follows, in this process or in a worker, runs them. A step that is
 * merely run again (a re-delivered job) stops at the breakpoint again.
 */
export async function passBreakpoint(env: StepEnv, head: LoadedHead): Promise<LoadedHead> {
  const batch = breakpointPass(env, head);
  if (batch === undefined) return head;
  await env.saver.putWrites({ ...env.key, checkpointId: head.checkpoint.id, ...batch });
  const [[channel, value, idx]] = batch.writes;
  const passed: PendingWrite = { taskId: BREAKPOINT, channel, value, idx };
  return { ...head, pendingWrites: [...head.pendingWrites, passed] };
}

/** The write that passes the static breakpoint in front of the head's tasks, if one is ahead and not passed. */
export function breakpointPass(
  env: StepEnv,
  head: LoadedHead,
): (WriteBatch & { writes: [[typeof BREAKPOINT, true, number]] }) | undefined {
  if (readPendingWrites(head.pendingWrites).breakpointPassed) return undefined;
  if (!breakpointAhead(env, head.metadata, plannedTasks(env, head))) return undefined;
  return { taskId: BREAKPOINT, writes: [[BREAKPOINT, true, SPECIAL_WRITE_IDX[BREAKPOINT]]] };
}

/**
 * `invoke(new Command({ update }))` (or a `goto`) on a thread stopped at a static breakpoint goes
 * on past it, as LangGraph's does: the edit is the go-ahead (LangGraph's review-and-edit of a
 * tool call). `entered` is the input checkpoint the command committed.
 */
export async function passBreakpointAfterCommand(
  env: StepEnv,
  entered: LoadedHead,
  command: Command,
): Promise<LoadedHead> {
  const writes = command.update !== undefined || gotoList(command.goto).length > 0;
  return writes ? passBreakpoint(env, entered) : entered;
}

/** `invoke(null, config)`: continue from the head, or replay from an older checkpoint as a fork. */
export async function continueRun(env: StepEnv, head: LoadedHead): Promise<LoadedHead> {
  const start = head.expectedHead === head.checkpoint.id ? head : await forkFrom(env, head);
  return passBreakpoint(env, start);
}
