// What a store of a graph with UntrackedValue keys leaves out: those keys' values, from the
// checkpoint, its metadata's record of what nodes wrote, and pending writes. The head in memory
// keeps them, so the run's next supersteps in this process still see them (as LangGraph's).
import type { Checkpoint, PutCheckpointArgs } from "@layover/checkpoint";
import type { GraphSpec } from "./graph/spec.ts";

type Untracked = Pick<GraphSpec, "untracked"> | undefined;

function without<T>(record: Readonly<Record<string, T>>, keys: ReadonlySet<string>): Record<string, T> {
  return Object.fromEntries(Object.entries(record).filter(([key]) => !keys.has(key)));
}

/** A node's update as a checkpoint's metadata records it (an object, or a node's several). */
function recordedUpdate(update: unknown, keys: ReadonlySet<string>): unknown {
  if (Array.isArray(update)) return update.map((each) => recordedUpdate(each, keys));
  if (update === null || typeof update !== "object" || Object.getPrototypeOf(update) !== Object.prototype)
    return update;
  return without(update as Record<string, unknown>, keys);
}

/** `values` (a state, or a node's update) without the untracked keys. */
export function storedValues(spec: Untracked, values: Record<string, unknown>): Record<string, unknown> {
  const keys = spec?.untracked;
  return keys === undefined ? values : without(values, keys);
}

/** `checkpoint` as stored: without the untracked keys' values. */
export function storedCheckpoint(spec: Untracked, checkpoint: Checkpoint): Checkpoint {
  const keys = spec?.untracked;
  return keys === undefined
    ? checkpoint
    : { ...checkpoint, channelValues: without(checkpoint.channelValues, keys) };
}

/** `args` as stored: without the untracked keys' values (their versions stay, as LangGraph's). */
export function storedPut(spec: Untracked, args: PutCheckpointArgs): PutCheckpointArgs {
  const keys = spec?.untracked;
  if (keys === undefined) return args;
  const { writes } = args.metadata;
  return {
    ...args,
    checkpoint: storedCheckpoint(spec, args.checkpoint),
    metadata:
      writes === null || writes === undefined
        ? args.metadata
        : {
            ...args.metadata,
            writes: Object.fromEntries(
              Object.entries(writes).map(([node, update]) => [node, recordedUpdate(update, keys)]),
            ),
          },
    changedChannels: args.changedChannels.filter((channel) => !keys.has(channel)),
    appends: args.appends === undefined ? undefined : without(args.appends, keys),
  };
}

/** A task's pending writes as stored: without those to untracked keys. */
export function storedWrites<W extends readonly [string, ...unknown[]]>(
  spec: Untracked,
  writes: readonly W[],
): readonly W[] {
  const keys = spec?.untracked;
  return keys === undefined ? writes : writes.filter(([channel]) => !keys.has(channel));
}
