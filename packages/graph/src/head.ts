import type { Checkpoint, CheckpointMetadata, CheckpointTuple, PendingWrite } from "@layover/checkpoint";
import type { PlannedTask } from "./algo/plan.ts";

/** A thread's checkpoint as a step works on it, kept in memory between supersteps of one run. */
export interface LoadedHead {
  checkpoint: Checkpoint;
  metadata: CheckpointMetadata;
  parentId: string | null;
  pendingWrites: PendingWrite[];
  /**
   * The head the next commit expects (compare-and-set). Equal to `checkpoint.id` except when
   * replaying or forking from an older checkpoint, where it is the thread's actual head.
   */
  expectedHead: string | null;
  /** Tasks planned from this checkpoint, once computed. */
  plan?: PlannedTask[];
}

export function headFromTuple(
  tuple: CheckpointTuple,
  expectedHead: string | null = tuple.checkpoint.id,
): LoadedHead {
  return {
    checkpoint: tuple.checkpoint,
    metadata: tuple.metadata,
    parentId: tuple.parentId,
    pendingWrites: tuple.pendingWrites,
    expectedHead,
  };
}
