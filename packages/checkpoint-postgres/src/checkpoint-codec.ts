import type {
  CheckpointKey,
  CheckpointMetadata,
  CheckpointTuple,
  PendingWrite,
  PutCheckpointArgs,
  Serializer,
} from "@layover/checkpoint";
import { wellFormed } from "@layover/checkpoint";
import { blobKey, decodeValue, type StoredBlob } from "./blob-codec.ts";
import { decodeBody, type EncodedBody, encodeBody } from "./checkpoint-body.ts";
import { PostgresSaverError } from "./errors.ts";

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export function isUuid(id: string): boolean {
  return UUID.test(id);
}

/** Throws INVALID_SAVER_INPUT unless `id` is a UUID (checkpoint ids are UUIDv7). */
export function checkUuid(id: string | null, what: string): void {
  if (id !== null && !isUuid(id)) {
    throw new PostgresSaverError(
      "INVALID_SAVER_INPUT",
      `${what} ${JSON.stringify(id)} is not a UUID: checkpoint ids are UUIDv7 (use newCheckpointId()).`,
    );
  }
}

/**
 * What JSON (and so jsonb) can hold: bigints as strings, NUL characters and halves of surrogate
 * pairs replaced by U+FFFD (a filter is spelled the same way, so it still finds them).
 */
function jsonSafe(_key: string, value: unknown): unknown {
  if (typeof value === "bigint") return value.toString();
  if (typeof value === "string") return wellFormed(value).replaceAll("\u0000", "\uFFFD");
  return value;
}

/** The metadata as `list({ filter })` matches it: top-level keys except `writes`, as JSON. */
export function metadataFilterJson(metadata: Record<string, unknown>): string {
  const { writes: _writes, ...rest } = metadata;
  return JSON.stringify(rest, jsonSafe);
}

/**
 * Splits a list filter into what SQL matches (jsonb, index-served) and what is matched in
 * process: `writes` is not indexed (it holds whole node outputs), so a filter on it is
 * compared here the way MemorySaver does.
 */
export function splitFilter(filter: Record<string, unknown> | undefined): {
  sql: string | null;
  writes: { expected: string | undefined } | undefined;
} {
  if (filter === undefined) return { sql: null, writes: undefined };
  const { writes, ...rest } = filter;
  const sql = Object.keys(rest).length > 0 ? JSON.stringify(rest, jsonSafe) : null;
  return { sql, writes: "writes" in filter ? { expected: JSON.stringify(writes) } : undefined };
}

export interface CheckpointRow extends EncodedBody {
  metadata: string;
  filter: string;
}

/** Serializes the checkpoint row: body (with inline values), metadata, filter projection. */
export function encodeCheckpoint(args: PutCheckpointArgs, serde: Serializer): CheckpointRow {
  return {
    ...encodeBody(args.checkpoint, serde),
    metadata: serde.dumps(args.metadata),
    filter: metadataFilterJson(args.metadata),
  };
}

/** One row of read-checkpoints' json arrays. */
type CheckpointJson = [id: string, parentId: string | null, body: string, metadata: string];
type BlobJson = [channel: string, version: number, baseVersion: number | null, data: string];
type WriteJson = [checkpointId: string, taskId: string, idx: number, channel: string, data: string];

export interface ReadRow {
  checkpoints: CheckpointJson[] | null;
  blobs: BlobJson[] | null;
  writes: WriteJson[] | null;
}

/** The row of read-heads: every element led by its key_id (checkpoints also by thread and ns). */
export interface HeadsRow {
  checkpoints: Array<[keyId: string, threadId: string, ns: string, ...CheckpointJson]> | null;
  blobs: Array<[keyId: string, ...BlobJson]> | null;
  writes: Array<[keyId: string, ...WriteJson]> | null;
}

/** read-heads' row split into one read-checkpoints row per key, by `headKey(threadId, ns)`. */
export function splitHeads(
  row: HeadsRow,
  headKey: (threadId: string, ns: string) => string,
): Map<string, ReadRow> {
  const byKeyId = new Map<
    string,
    { key: string; row: Required<{ [K in keyof ReadRow]: NonNullable<ReadRow[K]> }> }
  >();
  for (const [keyId, threadId, ns, ...checkpoint] of row.checkpoints ?? []) {
    byKeyId.set(keyId, {
      key: headKey(threadId, ns),
      row: { checkpoints: [checkpoint], blobs: [], writes: [] },
    });
  }
  for (const [keyId, ...blob] of row.blobs ?? []) byKeyId.get(keyId)?.row.blobs.push(blob);
  for (const [keyId, ...write] of row.writes ?? []) byKeyId.get(keyId)?.row.writes.push(write);
  return new Map([...byKeyId.values()].map(({ key, row }) => [key, row]));
}

function groupWrites(writes: readonly WriteJson[], serde: Serializer): Map<string, PendingWrite[]> {
  const byCheckpoint = new Map<string, PendingWrite[]>();
  for (const [checkpointId, taskId, idx, channel, data] of writes) {
    let list = byCheckpoint.get(checkpointId);
    if (list === undefined) {
      list = [];
      byCheckpoint.set(checkpointId, list);
    }
    list.push({ taskId, channel, idx, value: serde.loads(data) });
  }
  return byCheckpoint;
}

/** Rebuilds tuples from read-checkpoints' row; every value is decoded afresh (no sharing between tuples). */
export function decodeTuples(
  key: CheckpointKey,
  row: ReadRow | undefined,
  serde: Serializer,
): CheckpointTuple[] {
  if (row?.checkpoints == null) return [];
  const blobs = new Map<string, StoredBlob>();
  for (const [channel, version, baseVersion, data] of row.blobs ?? []) {
    blobs.set(blobKey(channel, version), { baseVersion, data });
  }
  const writes = groupWrites(row.writes ?? [], serde);
  return row.checkpoints.map(([id, parentId, body, metadata]) => {
    const { rest, channelVersions, inlineValues } = decodeBody(body, serde);
    const channelValues: Record<string, unknown> = {};
    for (const [channel, version] of Object.entries(channelVersions)) {
      if (inlineValues.has(channel)) {
        channelValues[channel] = inlineValues.get(channel);
        continue;
      }
      const decoded = decodeValue(blobs, channel, version, serde);
      if (decoded.found) channelValues[channel] = decoded.value;
    }
    return {
      threadId: key.threadId,
      ns: key.ns,
      checkpoint: { ...rest, id, channelValues, channelVersions },
      metadata: serde.loads(metadata) as CheckpointMetadata,
      parentId,
      pendingWrites: writes.get(id) ?? [],
    };
  });
}
