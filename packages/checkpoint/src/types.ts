/** Where a checkpoint lives: a thread, and a namespace inside it ("" for the root graph). */
export interface CheckpointKey {
  threadId: string;
  /** "" for the root graph; subgraphs get `parentNs|node:taskId` paths. */
  ns: string;
}

/** A checkpoint to read: the head of the key when `checkpointId` is omitted. */
export interface CheckpointRef extends CheckpointKey {
  checkpointId?: string | undefined;
}

/** A `Send` waiting in a checkpoint: a push task for the next superstep. */
export interface PendingSend {
  node: string;
  arg: unknown;
  /** The Send's own timeout for its task (LangGraph's `new Send(node, arg, { timeout })`). */
  timeout?: TimeoutPolicy;
}

/**
 * LangGraph's node timeout (`addNode(…, { timeout })`, `task()`'s, `entrypoint()`'s, a Send's),
 * kept here as a checkpoint's pending sends carry it.
 */
export interface TimeoutPolicy {
  /** Milliseconds one attempt may take in all. */
  runTimeout?: number;
  /** Milliseconds one attempt may go without progress (see refreshOn). */
  idleTimeout?: number;
  /**
   * What counts as progress: "auto" (its custom stream, pushMessage, task() calls, LangChain
   * callback events under it, config.heartbeat()), or "heartbeat" (config.heartbeat() alone).
   * @defaultValue "auto"
   */
  refreshOn?: "auto" | "heartbeat";
}

/**
 * The state of a thread after a superstep. Channel values are stored by version: a saver
 * writes only the channels listed as changed by `put`, and rebuilds the rest from the
 * versions it already holds.
 */
export interface Checkpoint {
  v: 1;
  /** Time-ordered (UUIDv7): sorts in creation order. */
  id: string;
  /** ISO-8601 creation time. */
  ts: string;
  channelValues: Record<string, unknown>;
  channelVersions: Record<string, number>;
  /** Channels that became available in the superstep that made this checkpoint: they plan the next one. */
  updatedChannels: string[];
  /** `Send` packets for the next superstep. */
  pendingSends: PendingSend[];
}

export type CheckpointSource = "input" | "loop" | "update" | "fork";

export interface CheckpointMetadata {
  source: CheckpointSource;
  /** -1 for the input checkpoint, then 0, 1, 2… per superstep. */
  step: number;
  /** What each node wrote in the superstep that made this checkpoint (node name → update). */
  writes: Record<string, unknown> | null;
  [key: string]: unknown;
}

/** One write recorded against a checkpoint before its successor exists. */
export interface PendingWrite {
  taskId: string;
  channel: string;
  value: unknown;
  /** Position in the task's writes; special channels use fixed negative indexes. */
  idx: number;
}

export interface CheckpointTuple extends CheckpointKey {
  checkpoint: Checkpoint;
  metadata: CheckpointMetadata;
  parentId: string | null;
  pendingWrites: PendingWrite[];
}

export interface PutCheckpointArgs extends CheckpointKey {
  checkpoint: Checkpoint;
  metadata: CheckpointMetadata;
  /** The checkpoint this one follows (null for the first checkpoint of the key). */
  parentId: string | null;
  /**
   * Compare-and-set: the head the key must have for the put to succeed.
   * @defaultValue `parentId` — a fork from an older checkpoint passes the current head here.
   */
  expectedHead?: string | null | undefined;
  /** Channels whose version changed in this checkpoint: the only values the saver stores. */
  changedChannels: readonly string[];
  /**
   * Lists that grew by appending: channel → where it grew from. An optional hint: a saver may
   * ignore it (MemorySaver does) and store full values. The Postgres saver stores only the
   * appended items, so a list that grows for N supersteps costs O(N) storage.
   */
  appends?: Readonly<Record<string, ListAppend>> | undefined;
}

/**
 * `channelValues[channel]` is the list stored at `baseVersion` — which held `baseLength`
 * items when the caller read it — followed by the items from index `baseLength` on. The
 * engine gives it when a reducer's result starts with every element of the old list (same
 * references) and the old list was not changed in place.
 */
export interface ListAppend {
  baseVersion: number;
  baseLength: number;
}

export interface PutWritesArgs extends CheckpointKey {
  checkpointId: string;
  taskId: string;
  /** `[channel, value, idx?]`; without idx a write's position in the list is its index. */
  writes: ReadonlyArray<readonly [channel: string, value: unknown, idx?: number]>;
}

export interface ListCheckpointsOptions {
  /** Most checkpoints to return. */
  limit?: number | undefined;
  /** Only checkpoints older than this checkpoint id. */
  before?: string | undefined;
  /** Only checkpoints whose metadata has these top-level values. */
  filter?: Record<string, unknown> | undefined;
}

/**
 * The checkpointer contract. Every saver passes `@layover/checkpoint/conformance`.
 *
 * - `put` is compare-and-set on the key's head: when the head is not `expectedHead`
 *   (default `parentId`) it throws `CheckpointConflictError` and writes nothing.
 * - `putWrites` is idempotent per (checkpoint, task, idx): writing the same slot again replaces it.
 * - Values are copied on the way in and out: mutating what you passed or got back changes nothing stored.
 */
export interface CheckpointSaver {
  getTuple(ref: CheckpointRef): Promise<CheckpointTuple | undefined>;
  list(key: CheckpointKey, options?: ListCheckpointsOptions): AsyncIterable<CheckpointTuple>;
  put(args: PutCheckpointArgs): Promise<void>;
  /**
   * Optional: stores a chain of checkpoints (oldest first, each one's `parentId` the one before
   * it) as one compare-and-set on the first's expected head: all or none. The engine stores a
   * run's supersteps held in memory with it; without it, it puts them one by one.
   */
  putMany?(chain: readonly PutCheckpointArgs[]): Promise<void>;
  putWrites(args: PutWritesArgs): Promise<void>;
  /** Removes every checkpoint, value and write of the thread, in all namespaces. */
  deleteThread(threadId: string): Promise<void>;
}
