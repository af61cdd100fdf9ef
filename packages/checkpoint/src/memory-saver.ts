import { CheckpointConflictError } from "./errors.ts";
import { jsonSerializer, type Serializer } from "./serializer.ts";
import type {
  Checkpoint,
  CheckpointKey,
  CheckpointMetadata,
  CheckpointRef,
  CheckpointSaver,
  CheckpointTuple,
  ListCheckpointsOptions,
  PendingWrite,
  PutCheckpointArgs,
  PutWritesArgs,
} from "./types.ts";

interface StoredCheckpoint {
  id: string;
  parentId: string | null;
  /** The checkpoint without its channel values (serialized). */
  body: string;
  metadata: string;
}

interface StoredWrite {
  taskId: string;
  channel: string;
  idx: number;
  value: string;
}

interface NamespaceStore {
  head: string | null;
  checkpoints: Map<string, StoredCheckpoint>;
  /** Checkpoint ids in insertion order (time-ordered ids: also id order). */
  order: string[];
  /** `${channel}\u0000${version}` → serialized value. */
  blobs: Map<string, string>;
  /** checkpoint id → `${taskId}\u0000${idx}` → write. */
  writes: Map<string, Map<string, StoredWrite>>;
}

function blobKey(channel: string, version: number): string {
  return `${channel}\u0000${version}`;
}

function matchesFilter(metadata: CheckpointMetadata, filter: Record<string, unknown> | undefined): boolean {
  if (filter === undefined) return true;
  for (const [key, expected] of Object.entries(filter)) {
    if (JSON.stringify(metadata[key]) !== JSON.stringify(expected)) return false;
  }
  return true;
}

/**
 * An in-process saver for development and tests. It follows the same storage model as the
 * Postgres saver — channel values stored once per version, writes keyed by (task, idx),
 * compare-and-set on the head — so code that works against it works against Postgres.
 * Nothing survives the process: use `@layover/checkpoint-postgres` in production.
 */
export class MemorySaver implements CheckpointSaver {
  private readonly threads = new Map<string, Map<string, NamespaceStore>>();
  private readonly serde: Serializer;

  constructor(options: { serializer?: Serializer } = {}) {
    this.serde = options.serializer ?? jsonSerializer;
  }

  private store(key: CheckpointKey, create: true): NamespaceStore;
  private store(key: CheckpointKey, create: false): NamespaceStore | undefined;
  private store(key: CheckpointKey, create: boolean): NamespaceStore | undefined {
    let namespaces = this.threads.get(key.threadId);
    if (namespaces === undefined) {
      if (!create) return undefined;
      namespaces = new Map();
      this.threads.set(key.threadId, namespaces);
    }
    let ns = namespaces.get(key.ns);
    if (ns === undefined && create) {
      ns = { head: null, checkpoints: new Map(), order: [], blobs: new Map(), writes: new Map() };
      namespaces.set(key.ns, ns);
    }
    return ns;
  }

  async getTuple(ref: CheckpointRef): Promise<CheckpointTuple | undefined> {
    const ns = this.store(ref, false);
    if (ns === undefined) return undefined;
    const id = ref.checkpointId ?? ns.head;
    if (id === null) return undefined;
    const stored = ns.checkpoints.get(id);
    return stored === undefined ? undefined : this.toTuple(ref, ns, stored);
  }

  async *list(key: CheckpointKey, options: ListCheckpointsOptions = {}): AsyncIterable<CheckpointTuple> {
    const ns = this.store(key, false);
    if (ns === undefined) return;
    let remaining = options.limit ?? Number.POSITIVE_INFINITY;
    for (let i = ns.order.length - 1; i >= 0 && remaining > 0; i--) {
      const stored = ns.checkpoints.get(ns.order[i] as string) as StoredCheckpoint;
      if (options.before !== undefined && stored.id >= options.before) continue;
      const tuple = this.toTuple(key, ns, stored);
      if (!matchesFilter(tuple.metadata, options.filter)) continue;
      remaining -= 1;
      yield tuple;
    }
  }

  async put(args: PutCheckpointArgs): Promise<void> {
    const ns = this.store(args, true);
    const expected = args.expectedHead === undefined ? args.parentId : args.expectedHead;
    if (ns.head !== expected || ns.checkpoints.has(args.checkpoint.id)) {
      throw new CheckpointConflictError({ ...args, expectedHead: expected, actualHead: ns.head });
    }
    const { channelValues, ...rest } = args.checkpoint;
    const blobs: [string, string][] = [];
    for (const channel of args.changedChannels) {
      const version = rest.channelVersions[channel];
      if (version === undefined) continue;
      blobs.push([blobKey(channel, version), this.serde.dumps(channelValues[channel])]);
    }
    const stored: StoredCheckpoint = {
      id: rest.id,
      parentId: args.parentId,
      body: this.serde.dumps(rest),
      metadata: this.serde.dumps(args.metadata),
    };
    for (const [key, value] of blobs) ns.blobs.set(key, value);
    ns.checkpoints.set(stored.id, stored);
    ns.order.push(stored.id);
    ns.head = stored.id;
  }

  async putWrites(args: PutWritesArgs): Promise<void> {
    const ns = this.store(args, true);
    const serialized = args.writes.map(([channel, value, idx], position) => ({
      taskId: args.taskId,
      channel,
      idx: idx ?? position,
      value: this.serde.dumps(value),
    }));
    let writes = ns.writes.get(args.checkpointId);
    if (writes === undefined) {
      writes = new Map();
      ns.writes.set(args.checkpointId, writes);
    }
    for (const write of serialized) writes.set(`${write.taskId}\u0000${write.idx}`, write);
  }

  async deleteThread(threadId: string): Promise<void> {
    this.threads.delete(threadId);
  }

  private toTuple(key: CheckpointKey, ns: NamespaceStore, stored: StoredCheckpoint): CheckpointTuple {
    const body = this.serde.loads(stored.body) as Omit<Checkpoint, "channelValues">;
    const channelValues: Record<string, unknown> = {};
    for (const [channel, version] of Object.entries(body.channelVersions)) {
      const blob = ns.blobs.get(blobKey(channel, version));
      if (blob !== undefined) channelValues[channel] = this.serde.loads(blob);
    }
    const pendingWrites: PendingWrite[] = [];
    for (const write of ns.writes.get(stored.id)?.values() ?? []) {
      pendingWrites.push({ ...write, value: this.serde.loads(write.value) });
    }
    return {
      threadId: key.threadId,
      ns: key.ns,
      checkpoint: { ...body, channelValues },
      metadata: this.serde.loads(stored.metadata) as CheckpointMetadata,
      parentId: stored.parentId,
      pendingWrites,
    };
  }
}
