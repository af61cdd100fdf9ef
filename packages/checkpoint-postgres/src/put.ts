// Storing checkpoints: one put, or a chain of them (a run's supersteps stored together), in one
// statement with compare-and-set on the key's head (sql/put-checkpoint.ts).
import {
  CheckpointConflictError,
  type PutCheckpointArgs,
  type PutWritesArgs,
  type Serializer,
} from "@layover/checkpoint";
import type pg from "pg";
import { type BlobRow, blobKey, encodeBlobs } from "./blob-codec.ts";
import { type CheckpointRow, checkUuid, encodeCheckpoint } from "./checkpoint-codec.ts";
import { PostgresSaverError, sqlstateOf } from "./errors.ts";
import type { PutGuard } from "./put-guard.ts";
import type { PutThen, PutThenStatements } from "./put-then.ts";
import { type RetryOptions, withRetry } from "./retry.ts";
import type { ListDeltaOptions } from "./saver-options.ts";

interface PutOutcome {
  deltas_ok: boolean;
  /** The key the checkpoints were stored under; null when the compare-and-set lost. */
  key_id: string | null;
  due: [channel: string, version: number][];
  /** `then`'s row (putThen). */
  then_row?: unknown;
}

type Statement = { name: string; text: string };

/** What a put needs from its saver. */
export interface PutDeps {
  pool: pg.Pool;
  serde: Serializer;
  retry: RetryOptions;
  deltas: Required<ListDeltaOptions> | false;
  putThens: PutThenStatements;
  sql: { put: Statement; putWrites: Statement; exists: string; heads: string; compact: string };
}

/** A chain encoded for the statement: every checkpoint's row and every blob row. */
interface Encoded {
  rows: CheckpointRow[];
  blobs: BlobRow[];
  /** Pending writes stored with it, as parallel arrays (checkpoint, task, idx, channel, data). */
  writes: unknown[][] | undefined;
}

/** What a put commits besides the chain (PostgresSaver.putThen), and under what condition (guarded). */
export interface PutWith {
  then?: PutThen | undefined;
  /** Pending writes of the chain's checkpoints, stored when the put wins. */
  writes?: readonly PutWritesArgs[] | undefined;
  /** ANDed into the compare-and-set (PostgresSaver.guarded). */
  guard?: PutGuard | undefined;
}

/** One task's writes as slots: the last write to an idx wins (as putWrites stores them). */
export function writeSlots(
  args: PutWritesArgs,
  serde: Serializer,
): Map<number, { channel: string; data: string }> {
  const bySlot = new Map<number, { channel: string; data: string }>();
  args.writes.forEach(([channel, value, idx], position) => {
    bySlot.set(idx ?? position, { channel, data: serde.dumps(value) });
  });
  return bySlot;
}

/**
 * `writes` as parallel arrays (checkpoint, task, idx, channel, data), each of `key`'s thread and
 * namespace and, when `ids` is given, of one of those checkpoints.
 */
export function encodeWrites(
  serde: Serializer,
  key: { threadId: string; ns: string },
  writes: readonly PutWritesArgs[],
  ids?: ReadonlySet<string>,
): unknown[][] {
  const columns: unknown[][] = [[], [], [], [], []];
  for (const args of writes) {
    checkUuid(args.checkpointId, "Checkpoint id");
    if (
      (ids !== undefined && !ids.has(args.checkpointId)) ||
      args.threadId !== key.threadId ||
      args.ns !== key.ns
    ) {
      throw new PostgresSaverError(
        "INVALID_SAVER_INPUT",
        `putThen: writes of checkpoint ${args.checkpointId} can only go with a put of that checkpoint, on its thread.`,
      );
    }
    for (const [idx, { channel, data }] of writeSlots(args, serde)) {
      for (const [i, value] of [args.checkpointId, args.taskId, idx, channel, data].entries()) {
        (columns[i] as unknown[]).push(value);
      }
    }
  }
  return columns;
}

/**
 * Refuses a chain that does not link up: one key, each checkpoint's parent the one before it.
 * `expectedHead` is the first checkpoint's (the chain moves the head from there).
 */
function checkChain(chain: readonly PutCheckpointArgs[]): void {
  const first = chain[0];
  if (first === undefined)
    throw new PostgresSaverError("INVALID_SAVER_INPUT", "putMany: the chain is empty.");
  chain.forEach((args, i) => {
    checkUuid(args.checkpoint.id, "Checkpoint id");
    checkUuid(args.parentId, "Parent checkpoint id");
    if (i === 0) return;
    const before = chain[i - 1] as PutCheckpointArgs;
    if (args.threadId !== first.threadId || args.ns !== first.ns || args.parentId !== before.checkpoint.id) {
      throw new PostgresSaverError(
        "INVALID_SAVER_INPUT",
        `putMany: checkpoint ${i} of the chain must follow checkpoint ${i - 1} on the same thread and namespace ` +
          `(its parentId must be ${before.checkpoint.id}).`,
      );
    }
  });
}

/** Every checkpoint's blob rows; a (channel, version) two of them list is stored once (the first's). */
function encodeChain(
  deps: PutDeps,
  chain: readonly PutCheckpointArgs[],
  rows: CheckpointRow[],
  deltas: boolean,
): BlobRow[] {
  const seen = new Set<string>();
  return chain.flatMap((args, i) =>
    encodeBlobs(args, deps.serde, { deltas, inline: (rows[i] as CheckpointRow).inline }).filter((blob) => {
      const key = blobKey(blob.channel, blob.version);
      if (seen.has(key)) return false;
      seen.add(key);
      return true;
    }),
  );
}

/**
 * Stores `chain` (oldest first) in one statement, with `then` (and writes) when given; resolves
 * to `then`'s row (undefined when there was none, or when a retry found the chain stored by an
 * attempt whose answer was lost).
 */
export async function storeChain(
  deps: PutDeps,
  chain: readonly PutCheckpointArgs[],
  then: PutWith | undefined,
): Promise<unknown> {
  checkChain(chain);
  const first = chain[0] as PutCheckpointArgs;
  const expected = first.expectedHead === undefined ? first.parentId : first.expectedHead;
  checkUuid(expected, "Expected head");
  // Forks write full values: their versions may collide with the abandoned branch's.
  const deltas = deps.deltas !== false && expected === first.parentId;
  const rows = chain.map((args) => encodeCheckpoint(args, deps.serde));
  const ids = new Set(chain.map((args) => args.checkpoint.id));
  const writes = then?.writes?.length ? encodeWrites(deps.serde, first, then.writes, ids) : undefined;
  const encoded: Encoded = { rows, blobs: encodeChain(deps, chain, rows, deltas), writes };
  const outcome = await withRetry("put", deps.retry, async ({ attempt }) => {
    let result = await runPut(deps, chain, expected, encoded, then);
    if (!result.deltas_ok) {
      encoded.blobs = encodeChain(deps, chain, rows, false);
      result = await runPut(deps, chain, expected, encoded, then);
    }
    if (result.key_id === null) return { ...result, stored: await refuse(deps, chain, expected, attempt) };
    return { ...result, stored: chain.length - 1 };
  });
  // The head is a checkpoint of the chain short of its last: a put whose answer was lost stored
  // the chain up to it. The rest follows it (with `then`), compare-and-set on it.
  if (outcome.key_id === null && outcome.stored < chain.length - 1)
    return storeChain(deps, chainAfter(chain, outcome.stored), then);
  if (outcome.key_id !== null && outcome.due.length > 0)
    await compact(deps, chain, outcome.key_id, outcome.due);
  // A retry that found the checkpoint stored by a lost attempt (key_id null) cannot tell.
  return outcome.key_id === null ? undefined : (outcome.then_row ?? undefined);
}

/** The checkpoints of `chain` after its `index`-th, the first of them following that one. */
function chainAfter(chain: readonly PutCheckpointArgs[], index: number): PutCheckpointArgs[] {
  const [next, ...rest] = chain.slice(index + 1) as [PutCheckpointArgs, ...PutCheckpointArgs[]];
  const { expectedHead: _, ...first } = next;
  return [first, ...rest];
}

async function runPut(
  deps: PutDeps,
  chain: readonly PutCheckpointArgs[],
  expected: string | null,
  { rows, blobs, writes }: Encoded,
  then: PutWith | undefined,
): Promise<PutOutcome> {
  const { minSnapshotBytes, maxChainLength } = deps.deltas || { minSnapshotBytes: 0, maxChainLength: 0 };
  const first = chain[0] as PutCheckpointArgs;
  const values = [
    first.threadId,
    first.ns,
    chain.map((args) => args.checkpoint.id),
    chain.map((args) => args.parentId),
    expected,
    rows.map((row) => row.body),
    rows.map((row) => row.blobVersions),
    rows.map((row) => row.metadata),
    rows.map((row) => row.filter),
    blobs.map((blob) => blob.channel),
    blobs.map((blob) => blob.version),
    blobs.map((blob) => blob.baseVersion),
    blobs.map((blob) => blob.baseLength),
    blobs.map((blob) => blob.items),
    blobs.map((blob) => blob.data),
    minSnapshotBytes,
    maxChainLength,
    ...(then?.then?.values ?? []),
    ...(writes ?? []),
    ...(then?.guard?.values ?? []),
  ];
  try {
    const statement =
      then === undefined || (then.then === undefined && then.guard === undefined)
        ? deps.sql.put
        : deps.putThens.get(then.then, writes !== undefined, then.guard);
    const result = await deps.pool.query<PutOutcome>({ ...statement, values });
    return result.rows[0] as PutOutcome;
  } catch (error) {
    // A checkpoint id already stored on this key: the same conflict as a moved head.
    if (sqlstateOf(error) === "23505") return { deltas_ok: true, key_id: null, due: [] };
    throw error;
  }
}

/**
 * The put lost its compare-and-set; returns the index of the last of the chain's checkpoints
 * stored, when a put of them whose answer was lost stored some. The head is then one of them:
 * their ids are this process's own, fresh for each superstep, so no other process stored them.
 * That put may be an earlier call (a background store that failed after its commit reached the
 * server) or, on a retry, this call's first attempt — which may also have committed with the
 * head moved on since: the last checkpoint stored says so. Else another process committed first.
 */
async function refuse(
  deps: PutDeps,
  chain: readonly PutCheckpointArgs[],
  expected: string | null,
  attempt: number,
): Promise<number> {
  const { threadId, ns } = chain[0] as PutCheckpointArgs;
  const head = await deps.pool.query<{ head_id: string }>(deps.sql.heads, [threadId, ns]);
  const headId = head.rows[0]?.head_id ?? null;
  // A head still at `expected` refused the chain itself (a checkpoint id stored already).
  const own = headId === expected ? -1 : chain.findIndex((args) => args.checkpoint.id === headId);
  if (own >= 0) return own;
  if (attempt > 1) {
    const last = (chain.at(-1) as PutCheckpointArgs).checkpoint.id;
    const stored = await deps.pool.query(deps.sql.exists, [threadId, ns, last]);
    if (stored.rowCount === 1) return chain.length - 1;
  }
  throw new CheckpointConflictError({
    threadId,
    ns,
    expectedHead: expected,
    actualHead: headId,
  });
}

/** Rewrites deltas whose chain outgrew their snapshot as full values. Best effort: a failure leaves a valid delta. */
async function compact(
  deps: PutDeps,
  chain: readonly PutCheckpointArgs[],
  keyId: string,
  due: PutOutcome["due"],
): Promise<void> {
  for (const [channel, version] of due) {
    const owner = chain.find((args) => args.checkpoint.channelVersions[channel] === version);
    if (owner === undefined) continue;
    const data = deps.serde.dumps(owner.checkpoint.channelValues[channel]);
    await deps.pool.query(deps.sql.compact, [keyId, channel, version, data]).catch(() => undefined);
  }
}

/**
 * PostgresSaver.putWrites: one task's writes of `args.checkpointId`, idempotent (retried), under
 * `guard` when given (a refusal is a lost compare-and-set: CheckpointConflictError).
 */
export async function storeWrites(deps: PutDeps, args: PutWritesArgs, guard?: PutGuard): Promise<void> {
  checkUuid(args.checkpointId, "Checkpoint id");
  const bySlot = writeSlots(args, deps.serde);
  if (bySlot.size === 0) return;
  const statement = guard === undefined ? deps.sql.putWrites : deps.putThens.writes(guard);
  const values = [
    args.threadId,
    args.ns,
    args.checkpointId,
    args.taskId,
    [...bySlot.keys()],
    [...bySlot.values()].map((write) => write.channel),
    [...bySlot.values()].map((write) => write.data),
    ...(guard?.values ?? []),
  ];
  const result = await withRetry("putWrites", deps.retry, () => deps.pool.query({ ...statement, values }));
  if (result.rowCount !== 0) return;
  const head =
    guard && (await deps.pool.query<{ head_id: string }>(deps.sql.heads, [args.threadId, args.ns]));
  if (head?.rows[0] !== undefined) {
    throw new CheckpointConflictError({
      threadId: args.threadId,
      ns: args.ns,
      expectedHead: args.checkpointId,
      actualHead: head.rows[0].head_id,
    });
  }
  throw new PostgresSaverError(
    "CHECKPOINT_NOT_FOUND",
    `putWrites: thread "${args.threadId}" (ns "${args.ns}") has no checkpoint, so checkpoint ${args.checkpointId} cannot exist.`,
  );
}

/**
 * PostgresSaver.putWritesThen: `writes` (one key's, of its head checkpoint) and `then` in one
 * statement, sent once; `guard` ANDed into the writes' condition.
 */
export async function storeWritesThen<R>(
  deps: PutDeps,
  writes: readonly PutWritesArgs[],
  then: PutThen,
  guard?: PutGuard,
): Promise<R | undefined> {
  const statement = deps.putThens.get(then, "only", guard);
  const key = writes[0];
  if (key === undefined)
    throw new PostgresSaverError("INVALID_SAVER_INPUT", "putWritesThen: no writes given.");
  const columns = encodeWrites(deps.serde, key, writes);
  const values = [
    key.threadId,
    key.ns,
    ...columns,
    ...Array(10).fill(null),
    ...then.values,
    ...(guard?.values ?? []),
  ];
  type Row = { key_id: string | null; head_id: string | null; stored: boolean; then_row: R | null };
  const result = await withRetry("putWritesThen", { ...deps.retry, maxAttempts: 1 }, () =>
    deps.pool.query<Row>({ ...statement, values }),
  );
  const row = result.rows[0] as Row;
  if (row.key_id === null) {
    throw new PostgresSaverError(
      "CHECKPOINT_NOT_FOUND",
      `putWritesThen: thread "${key.threadId}" (ns "${key.ns}") has no checkpoint, so its writes cannot be stored.`,
    );
  }
  if (!row.stored) {
    // Another process moved the head past the checkpoint these writes belong to (or the guard refused them).
    throw new CheckpointConflictError({
      threadId: key.threadId,
      ns: key.ns,
      expectedHead: key.checkpointId,
      actualHead: row.head_id,
    });
  }
  return row.then_row ?? undefined;
}
