import type { PutCheckpointArgs, Serializer } from "@layover/checkpoint";
import { PostgresSaverError } from "./errors.ts";

/** A channel value as put-checkpoint stores it: a full value, or a list's appended items. */
export interface BlobRow {
  channel: string;
  version: number;
  /** The version this delta appends to; null for a full value. */
  baseVersion: number | null;
  /** How many items the base held when the caller appended (checked against the stored row). */
  baseLength: number | null;
  /** Full: the list's length (null when not a list). Delta: how many items it appends. */
  items: number | null;
  data: string;
}

/** A stored row as reads return it. */
export interface StoredBlob {
  baseVersion: number | null;
  data: string;
}

export function blobKey(channel: string, version: number): string {
  return `${channel}\u0000${version}`;
}

/** The append hint for `channel`, when it can be stored as a delta. */
function usableAppend(args: PutCheckpointArgs, channel: string, version: number, value: unknown) {
  const hint = args.appends?.[channel];
  if (hint === undefined || !Array.isArray(value)) return undefined;
  const { baseVersion, baseLength } = hint;
  if (!Number.isSafeInteger(baseVersion) || baseVersion < 0 || baseVersion >= version) return undefined;
  if (!Number.isSafeInteger(baseLength) || baseLength < 0 || baseLength > value.length) return undefined;
  return hint;
}

/**
 * Serializes the values of the channels `put` must store in checkpoint_blobs: each changed
 * channel not stored inline, at its new version, as the appended items when the caller says the list grew from its base (and
 * `deltas` allows), else as the full value. Runs before any round trip, after `encodeBody`
 * (which checks every version).
 */
export function encodeBlobs(
  args: PutCheckpointArgs,
  serde: Serializer,
  options: { deltas: boolean; inline: ReadonlySet<string> },
): BlobRow[] {
  const rows: BlobRow[] = [];
  const { channelValues, channelVersions } = args.checkpoint;
  for (const channel of new Set(args.changedChannels)) {
    const version = channelVersions[channel];
    if (version === undefined || options.inline.has(channel)) continue;
    const value = channelValues[channel];
    const append = options.deltas ? usableAppend(args, channel, version, value) : undefined;
    if (append !== undefined) {
      const items = (value as unknown[]).slice(append.baseLength);
      rows.push({
        channel,
        version,
        baseVersion: append.baseVersion,
        baseLength: append.baseLength,
        items: items.length,
        data: serde.dumps(items),
      });
    } else {
      const items = Array.isArray(value) ? value.length : null;
      rows.push({ channel, version, baseVersion: null, baseLength: null, items, data: serde.dumps(value) });
    }
  }
  return rows;
}

function corrupt(channel: string, version: number, detail: string): PostgresSaverError {
  return new PostgresSaverError(
    "CHECKPOINT_DATA_CORRUPT",
    `Cannot rebuild channel "${channel}" at version ${version}: ${detail}.`,
  );
}

/**
 * The value of `channel` at `version` from stored rows: a full row as is; a delta as the full
 * row its chain starts from followed by every delta's items in order. `found: false` when the
 * version has no row (the channel is then absent from the checkpoint).
 */
export function decodeValue(
  rows: ReadonlyMap<string, StoredBlob>,
  channel: string,
  version: number,
  serde: Serializer,
): { found: boolean; value?: unknown } {
  let row = rows.get(blobKey(channel, version));
  if (row === undefined) return { found: false };
  const deltas: string[] = [];
  let at = version;
  while (row.baseVersion !== null) {
    if (deltas.length > rows.size) throw corrupt(channel, version, "its delta chain loops");
    deltas.push(row.data);
    at = row.baseVersion;
    row = rows.get(blobKey(channel, at));
    if (row === undefined)
      throw corrupt(channel, version, `the row of version ${at} it appends to is missing`);
  }
  if (deltas.length === 0) return { found: true, value: serde.loads(row.data) };
  const value = serde.loads(row.data);
  if (!Array.isArray(value)) throw corrupt(channel, version, `its base (version ${at}) is not a list`);
  for (let i = deltas.length - 1; i >= 0; i--) {
    for (const item of serde.loads(deltas[i] as string) as unknown[]) value.push(item);
  }
  return { found: true, value };
}
