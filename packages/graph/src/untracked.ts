// What leaves the process of a graph with UntrackedValue keys, without those keys' values: the
// checkpoints it stores (their values, Send packets and metadata's record of what nodes wrote),
// pending writes, node cache keys and writes, subgraph input keys, and a worker's stream chunks.
// The head in memory keeps them, so the run's next supersteps in this process still see them
// (as LangGraph's).
import type { Checkpoint, PendingSend, PutCheckpointArgs } from "@layover/checkpoint";
import { isCommand } from "./command.ts";
import { TASKS } from "./constants.ts";
import type { GraphSpec } from "./graph/spec.ts";

type Untracked = Pick<GraphSpec, "untracked"> | undefined;
type Keys = ReadonlySet<string> | undefined;

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === "object" && Object.getPrototypeOf(value) === Object.prototype;
}

/** `value` without `keys`, when it is a plain object holding any of them; else `value` itself. */
export function withoutKeys<T>(value: T, ...sets: Keys[]): T {
  if (!isPlainObject(value)) return value;
  const keys = sets.filter((set): set is ReadonlySet<string> => set !== undefined);
  if (!keys.some((set) => Object.keys(value).some((key) => set.has(key)))) return value;
  return Object.fromEntries(Object.entries(value).filter(([key]) => !keys.some((set) => set.has(key)))) as T;
}

/** An update in any form a node or a Command gives it (an object, `[key, value]` pairs), without `keys`. */
function strippedUpdate(update: unknown, keys: ReadonlySet<string>): unknown {
  if (Array.isArray(update) && update.every((pair) => Array.isArray(pair) && typeof pair[0] === "string"))
    return update.filter(([key]) => !keys.has(key));
  return withoutKeys(update, keys);
}

/** A node's update as a checkpoint's metadata records it: an update, a Command, a Command input's record, or a node's several. */
function recordedUpdate(update: unknown, keys: ReadonlySet<string>): unknown {
  // A Command's fields, as its JSON holds them (lg_name "Command" included).
  if (isCommand(update)) return { ...update, update: strippedUpdate(update.update, keys) };
  if (Array.isArray(update) && !update.every((pair) => Array.isArray(pair)))
    return update.map((each) => recordedUpdate(each, keys));
  // A Command input's record ({ update, goto }, under START).
  if (isPlainObject(update) && "goto" in update && "update" in update)
    return { ...update, update: strippedUpdate(update.update, keys) };
  return strippedUpdate(update, keys);
}

/** A Send packet as stored: its state without the sender's untracked keys (LangGraph strips them too). */
function storedSend<S extends PendingSend>(send: S, keys: ReadonlySet<string>): S {
  const arg = withoutKeys(send.arg, keys);
  return arg === send.arg ? send : { ...send, arg };
}

/** A stored checkpoint's values with each untracked key's default where it has none (getState's, as LangGraph's). */
export function withUntrackedDefaults(
  spec: Pick<GraphSpec, "untracked" | "state">,
  values: Record<string, unknown>,
): Record<string, unknown> {
  let filled: Record<string, unknown> | undefined;
  for (const key of spec.untracked ?? []) {
    if (values[key] !== undefined) continue;
    const value = spec.state.fields.get(key)?.initial();
    if (value === undefined) continue;
    filled ??= { ...values };
    filled[key] = value;
  }
  return filled ?? values;
}

/** `values` (a state, or a node's update) without the untracked keys. */
export function storedValues<T>(spec: Untracked, values: T): T {
  return withoutKeys(values, spec?.untracked);
}

/** `checkpoint` as stored: without the untracked keys' values, in its channels and Send packets. */
export function storedCheckpoint(spec: Untracked, checkpoint: Checkpoint): Checkpoint {
  const keys = spec?.untracked;
  if (keys === undefined) return checkpoint;
  return {
    ...checkpoint,
    channelValues: withoutKeys(checkpoint.channelValues, keys),
    pendingSends: checkpoint.pendingSends.map((send) => storedSend(send, keys)),
  };
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
    appends: args.appends === undefined ? undefined : withoutKeys({ ...args.appends }, keys),
  };
}

/** A task's writes as stored (pending writes, the node cache): none to untracked keys, Sends without them. */
export function storedWrites<W extends readonly [string, ...unknown[]]>(
  spec: Untracked,
  writes: readonly W[],
): readonly W[] {
  const keys = spec?.untracked;
  if (keys === undefined) return writes;
  return writes
    .filter(([channel]) => !keys.has(channel))
    .map((write) =>
      write[0] === TASKS && isPlainObject(write[1])
        ? ([
            write[0],
            storedSend(write[1] as unknown as PendingSend, keys),
            ...write.slice(2),
          ] as unknown as W)
        : write,
    );
}
