import type { Checkpoint, Serializer } from "@layover/checkpoint";
import { PostgresSaverError } from "./errors.ts";

/**
 * Strings up to this length are stored inline in the checkpoint row, like every other
 * primitive: a blob row and its index entry cost about 150 bytes, more than repeating a
 * small value in each checkpoint.
 */
export const INLINE_STRING_MAX = 64;

/** Primitives (null, undefined, booleans, numbers, bigints, short strings) live in the checkpoint row. */
export function isInline(value: unknown): boolean {
  switch (typeof value) {
    case "undefined":
    case "boolean":
    case "number":
    case "bigint":
      return true;
    case "string":
      return value.length <= INLINE_STRING_MAX;
    case "object":
      return value === null;
    default:
      return false;
  }
}

/** Per channel, in the checkpoint's order: `[version]` (value in checkpoint_blobs) or `[version, value]` (inline). */
type ChannelEntry = [version: number] | [version: number, value: unknown];
type Rest = Omit<Checkpoint, "id" | "channelValues" | "channelVersions">;

/**
 * The stored body: `[v, ts, updatedChannels, pendingSends, channels]` for a plain checkpoint,
 * `[rest, channels]` when it carries other fields (kept exactly).
 */
type Body =
  | [number, string, string[], Checkpoint["pendingSends"], Record<string, ChannelEntry>]
  | [Rest, Record<string, ChannelEntry>];

const PLAIN_KEYS = ["v", "ts", "updatedChannels", "pendingSends"];

export interface EncodedBody {
  body: string;
  /** channel → version of the channels whose value is in checkpoint_blobs (json, for the server). */
  blobVersions: string;
  /** Channels stored inline: `put` writes no blob row for them. */
  inline: Set<string>;
}

export function encodeBody(checkpoint: Checkpoint, serde: Serializer): EncodedBody {
  const { channelValues, channelVersions, id: _id, ...rest } = checkpoint;
  const channels: Record<string, ChannelEntry> = {};
  const blobVersions: Record<string, number> = {};
  const inline = new Set<string>();
  for (const [channel, version] of Object.entries(channelVersions)) {
    if (!Number.isSafeInteger(version) || version < 0) {
      throw new PostgresSaverError(
        "INVALID_SAVER_INPUT",
        `Channel "${channel}" has version ${version}: versions must be non-negative integers.`,
      );
    }
    const value = channelValues[channel];
    if (Object.hasOwn(channelValues, channel) && isInline(value)) {
      channels[channel] = [version, value];
      inline.add(channel);
    } else {
      channels[channel] = [version];
      blobVersions[channel] = version;
    }
  }
  const keys = Object.keys(rest);
  const plain = keys.length === PLAIN_KEYS.length && PLAIN_KEYS.every((key) => keys.includes(key));
  const body: Body = plain
    ? [rest.v, rest.ts, rest.updatedChannels, rest.pendingSends, channels]
    : [rest, channels];
  return { body: serde.dumps(body), blobVersions: JSON.stringify(blobVersions), inline };
}

export interface DecodedBody {
  rest: Rest;
  channelVersions: Record<string, number>;
  /** Inline values; channels missing here are read from checkpoint_blobs. */
  inlineValues: Map<string, unknown>;
}

export function decodeBody(text: string, serde: Serializer): DecodedBody {
  const body = serde.loads(text) as Body;
  const [rest, channels] =
    body.length === 2
      ? body
      : [{ v: body[0] as 1, ts: body[1], updatedChannels: body[2], pendingSends: body[3] }, body[4]];
  const channelVersions: Record<string, number> = {};
  const inlineValues = new Map<string, unknown>();
  for (const [channel, entry] of Object.entries(channels)) {
    channelVersions[channel] = entry[0];
    if (entry.length === 2) inlineValues.set(channel, entry[1]);
  }
  return { rest, channelVersions, inlineValues };
}
