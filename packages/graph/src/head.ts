import type {
  Checkpoint,
  CheckpointMetadata,
  CheckpointTuple,
  ListAppend,
  PendingWrite,
} from "@layover/checkpoint";
import { maxVersion } from "./algo/apply-writes.ts";
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
  /**
   * The highest channel version the thread has used: the thread head's highest version (the
   * head always holds it, as every commit numbers its changes above it). A commit numbers its
   * changed channels above this, so a fork never reuses a version an abandoned branch stored.
   */
  versionFloor: number;
  /** Tasks planned from this checkpoint, once computed. */
  plan?: PlannedTask[];
  /**
   * Pending writes held in memory only (a resume's answers, recorded just before the superstep
   * that consumes them): saved if that superstep does not commit, dropped with it if it does.
   */
  unsaved?: WriteBatch[];
  /**
   * Set while this head is held in memory only (durability "exit", or a held "async"
   * superstep): what storing it needs. `expectedHead` is then that of the stored head it
   * follows, and so is `parentId` under "exit" (a chain's is its predecessor's).
   */
  deferred?: Deferred;
}

/** An unstored head's put: the last stored head, and what changed since it. */
export interface Deferred {
  /** Undefined for a held input checkpoint of a new thread and its successors: nothing is stored before them. */
  stored: LoadedHead | undefined;
  /** Channels whose version changed since `stored` (in a chain: since the head before). */
  changed: Set<string>;
  /**
   * Lists that only grew by appending since `stored`, against their value stored there (in a
   * chain: in this superstep, against the head before, stored with or before it).
   */
  appends: Map<string, ListAppend>;
  /**
   * A held "async" superstep's predecessors since `stored`, oldest first: each is stored with
   * it, in one put (those a background store has stored meanwhile have no `deferred` left).
   * Absent under "exit", which stores only the last.
   */
  chain?: LoadedHead[];
  /** A caller's store has tried this head: a background store leaves it alone. */
  claimed?: boolean;
}

/** One task's pending writes, as `saver.putWrites` stores them. */
export interface WriteBatch {
  taskId: string;
  writes: Array<[channel: string, value: unknown, idx: number]>;
}

/** `tuple` as the head to work from; `latest` is the thread's actual head when it differs (a fork). */
export function headFromTuple(tuple: CheckpointTuple, latest?: CheckpointTuple): LoadedHead {
  const own = maxVersion(tuple.checkpoint.channelVersions);
  return {
    checkpoint: tuple.checkpoint,
    metadata: tuple.metadata,
    parentId: tuple.parentId,
    pendingWrites: tuple.pendingWrites,
    expectedHead: latest === undefined ? tuple.checkpoint.id : latest.checkpoint.id,
    versionFloor: latest === undefined ? own : Math.max(own, maxVersion(latest.checkpoint.channelVersions)),
  };
}
