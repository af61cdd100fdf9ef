import { randomUUID } from "node:crypto";
import { afterEach, beforeEach, expect } from "vitest";
import { isCheckpointConflict } from "../errors.ts";
import { newCheckpointId } from "../ids.ts";
import type {
  Checkpoint,
  CheckpointKey,
  CheckpointMetadata,
  CheckpointSaver,
  CheckpointSource,
  CheckpointTuple,
  PendingSend,
  PendingWrite,
  PutCheckpointArgs,
} from "../types.ts";

/** What a conformance factory returns: a saver, and how to dispose of it after the test. */
export interface SaverHandle {
  saver: CheckpointSaver;
  cleanup?: () => Promise<void>;
}

export type SaverFactory = () => Promise<SaverHandle>;

/** What each test works with: a fresh saver and a thread id no other test (or run) uses. */
export interface ConformanceEnv {
  saver: CheckpointSaver;
  threadId: string;
  /** The root namespace of `threadId`. */
  key: CheckpointKey;
}

export type UseEnv = () => ConformanceEnv;

/** A thread id unique to this call, so tests can share one database. */
export function uniqueThreadId(label = "thread"): string {
  return `conformance-${label}-${randomUUID()}`;
}

export interface CheckpointInit {
  values?: Record<string, unknown>;
  /** Defaults to version 1 for every channel in `values`. */
  versions?: Record<string, number>;
  /** Defaults to every channel in `values`. */
  updatedChannels?: string[];
  pendingSends?: PendingSend[];
}

/** A valid checkpoint with a fresh time-ordered id. */
export function makeCheckpoint(init: CheckpointInit = {}): Checkpoint {
  const values = init.values ?? {};
  return {
    v: 1,
    id: newCheckpointId(),
    ts: new Date().toISOString(),
    channelValues: values,
    channelVersions: init.versions ?? Object.fromEntries(Object.keys(values).map((channel) => [channel, 1])),
    updatedChannels: init.updatedChannels ?? Object.keys(values),
    pendingSends: init.pendingSends ?? [],
  };
}

export function meta(
  step: number,
  source: CheckpointSource = "loop",
  extra: Record<string, unknown> = {},
): CheckpointMetadata {
  return { ...extra, source, step, writes: null };
}

export interface PutInit extends CheckpointInit {
  parentId: string | null;
  metadata?: CheckpointMetadata;
  /** Defaults to every channel in the checkpoint's versions. */
  changed?: readonly string[];
  expectedHead?: string | null;
}

/** Builds a checkpoint, puts it on `key` and returns it. */
export async function putCheckpoint(
  saver: CheckpointSaver,
  key: CheckpointKey,
  init: PutInit,
): Promise<Checkpoint> {
  const checkpoint = makeCheckpoint(init);
  const args: PutCheckpointArgs = {
    threadId: key.threadId,
    ns: key.ns,
    checkpoint,
    metadata: init.metadata ?? meta(0),
    parentId: init.parentId,
    changedChannels: init.changed ?? Object.keys(checkpoint.channelVersions),
  };
  if (init.expectedHead !== undefined) args.expectedHead = init.expectedHead;
  await saver.put(args);
  return checkpoint;
}

/**
 * Puts `count` checkpoints in a line on `key`: checkpoint i holds `{ counter: i }` at version
 * i + 1, with metadata step i - 1 (the first is the "input" checkpoint).
 */
export async function putChain(
  saver: CheckpointSaver,
  key: CheckpointKey,
  count: number,
): Promise<Checkpoint[]> {
  const chain: Checkpoint[] = [];
  for (let i = 0; i < count; i++) {
    const checkpoint = await putCheckpoint(saver, key, {
      parentId: chain.at(-1)?.id ?? null,
      values: { counter: i },
      versions: { counter: i + 1 },
      metadata: meta(i - 1, i === 0 ? "input" : "loop"),
    });
    chain.push(checkpoint);
  }
  return chain;
}

export async function collect<T>(items: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const item of items) out.push(item);
  return out;
}

export function ids(tuples: readonly CheckpointTuple[]): string[] {
  return tuples.map((tuple) => tuple.checkpoint.id);
}

/** The ids listed for `key`, newest first. */
export async function listIds(saver: CheckpointSaver, key: CheckpointKey): Promise<string[]> {
  return ids(await collect(saver.list(key)));
}

/** The id of the head of `key`, or undefined when the key has no checkpoint. */
export async function headId(saver: CheckpointSaver, key: CheckpointKey): Promise<string | undefined> {
  return (await saver.getTuple(key))?.checkpoint.id;
}

/** Pending writes in a stable order (task, then idx), so tests need not assume the saver's order. */
export function sortWrites(writes: readonly PendingWrite[]): PendingWrite[] {
  return [...writes].sort((a, b) => (a.taskId === b.taskId ? a.idx - b.idx : a.taskId < b.taskId ? -1 : 1));
}

/** Asserts that `promise` rejects with a checkpoint conflict. */
export async function expectConflict(promise: Promise<unknown>): Promise<void> {
  let rejected = false;
  let error: unknown;
  try {
    await promise;
  } catch (caught) {
    rejected = true;
    error = caught;
  }
  expect(rejected, "expected the put to be rejected with a CheckpointConflictError").toBe(true);
  expect(isCheckpointConflict(error), `expected a checkpoint conflict, got ${String(error)}`).toBe(true);
  expect((error as { code?: unknown }).code).toBe("CHECKPOINT_CONFLICT");
}

/**
 * A suite's per-test handle (a store, a cache) from `factory`, cleaned up after each test, and
 * `ns(...labels)`: namespaces under a root label no other test uses, so a backend one database
 * shares can run the suite. Call inside a describe block; `use()` inside a test.
 */
export function perTestHandle<H extends { cleanup?: () => Promise<void> }>(
  factory: () => Promise<H>,
  what: string,
) {
  let handle: H | undefined;
  let root = "";
  beforeEach(async () => {
    handle = await factory();
    root = `conformance-${randomUUID()}`;
  });
  afterEach(async () => {
    await handle?.cleanup?.();
    handle = undefined;
  });
  return () => {
    if (handle === undefined) throw new Error(`The ${what} is only available inside a test.`);
    return { handle, ns: (...labels: string[]) => [root, ...labels] };
  };
}
