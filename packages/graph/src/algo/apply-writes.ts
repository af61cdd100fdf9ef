import type { ListAppend, PendingSend } from "@layover/checkpoint";
import { TASKS } from "../constants.ts";
import { InvalidUpdateError } from "../errors.ts";
import type { GraphSpec } from "../graph/spec.ts";
import { overwriteOf } from "../overwrite.ts";

export type Write = readonly [channel: string, value: unknown];

/** Channel values and versions: the part of a checkpoint a superstep changes. */
export interface ChannelState {
  values: Record<string, unknown>;
  versions: Record<string, number>;
}

export interface AppliedWrites extends ChannelState {
  /** Channels whose version changed. */
  changed: Set<string>;
  /** Trigger and join channels that became available: they plan the next superstep. */
  available: string[];
  sends: PendingSend[];
  /** Lists a reducer grew by appending: a storage hint for savers (see `ListAppend`). */
  appends: Record<string, ListAppend>;
}

function groupByChannel(groups: ReadonlyArray<readonly Write[]>): Map<string, unknown[]> {
  const byChannel = new Map<string, unknown[]>();
  for (const writes of groups) {
    for (const [channel, value] of writes) {
      const list = byChannel.get(channel);
      if (list === undefined) byChannel.set(channel, [value]);
      else list.push(value);
    }
  }
  return byChannel;
}

function applyChannel(spec: GraphSpec, out: AppliedWrites, channel: string, updates: unknown[]): void {
  const channelSpec = spec.channels.get(channel);
  if (channelSpec === undefined) {
    throw new InvalidUpdateError(`Unknown channel "${channel}" in graph "${spec.name}".`);
  }
  switch (channelSpec.kind) {
    case "last":
      if (updates.length > 1 && channelSpec.lastWins !== true) {
        throw new InvalidUpdateError(
          `State key "${channel}" received ${updates.length} values in one superstep, but it keeps a single value. ` +
            (spec.untracked?.has(channel)
              ? "It is an UntrackedValue: give it { guard: false } to keep the last write, or write it from one node per step."
              : "Give it a reducer (Annotation({ reducer }), ReducedValue, or a zod field's .register(registry, { reducer })) to combine parallel writes, or write it from one node per step."),
        );
      }
      {
        // An Overwrite of a last-value key is just its value.
        const last = updates[updates.length - 1];
        const [isOverwrite, value] = overwriteOf(last);
        out.values[channel] = isOverwrite ? value : last;
      }
      break;
    case "reduce": {
      const old = out.values[channel];
      const oldLength = Array.isArray(old) ? old.length : -1;
      const value = reduced(channel, channelSpec.reducer, old, updates);
      out.values[channel] = value;
      const baseVersion = out.versions[channel];
      if (baseVersion !== undefined && grewByAppending(old, oldLength, value)) {
        out.appends[channel] = { baseVersion, baseLength: oldLength };
      }
      break;
    }
    case "trigger":
      out.values[channel] = true;
      out.available.push(channel);
      break;
    case "join": {
      const seen = new Set((out.values[channel] as string[] | undefined) ?? []);
      for (const source of updates) seen.add(source as string);
      out.values[channel] = [...seen];
      if (channelSpec.sources.every((source) => seen.has(source))) out.available.push(channel);
      break;
    }
  }
  out.changed.add(channel);
}

/**
 * A reducer key's value after a superstep's writes, as LangGraph's BinaryOperatorAggregate: a
 * key without a default starts from its first write (the reducer never sees undefined), and an
 * Overwrite sets it, dropping the writes after it (a second Overwrite is an error).
 */
function reduced(
  channel: string,
  reducer: (current: unknown, update: unknown) => unknown,
  old: unknown,
  updates: readonly unknown[],
): unknown {
  let value = old;
  let overwritten = false;
  for (const update of updates) {
    const [isOverwrite, replacement] = overwriteOf(update);
    if (isOverwrite) {
      if (overwritten)
        throw new InvalidUpdateError(
          `State key "${channel}" received two Overwrite values in one superstep: give it one.`,
        );
      value = replacement;
      overwritten = true;
    } else if (!overwritten) value = value === undefined ? update : reducer(value, update);
  }
  return value;
}

/**
 * True when `value` is the list `old` (still `oldLength` long: not changed in place) followed
 * by more items — the same references, compared with `===`, no serialisation.
 */
function grewByAppending(old: unknown, oldLength: number, value: unknown): boolean {
  if (!Array.isArray(old) || !Array.isArray(value) || value === old) return false;
  if (old.length !== oldLength || value.length < oldLength) return false;
  for (let i = 0; i < oldLength; i++) if (value[i] !== old[i]) return false;
  return true;
}

/** The append hints of `applied` for a put, leaving out channels also changed before it (their base version is not stored). */
export function appendHints(
  applied: AppliedWrites,
  changedBefore: ReadonlySet<string>,
): Record<string, ListAppend> | undefined {
  const hints = Object.entries(applied.appends).filter(([channel]) => !changedBefore.has(channel));
  return hints.length > 0 ? Object.fromEntries(hints) : undefined;
}

/** The highest version in `versions` (0 when empty). */
export function maxVersion(versions: Record<string, number>): number {
  let max = 0;
  for (const channel in versions) {
    const version = versions[channel] as number;
    if (version > max) max = version;
  }
  return max;
}

/**
 * Applies one superstep's writes at once, without I/O: consumes the join channels of the
 * tasks that ran, folds every channel's writes in task order through its reducer, and bumps
 * the version of each changed channel. `groups` are the tasks' write lists in write order
 * (`inWriteOrder`).
 */
export function applyWrites(
  spec: GraphSpec,
  base: ChannelState,
  groups: ReadonlyArray<readonly Write[]>,
  consumed: readonly string[] = [],
  versionFloor = 0,
): AppliedWrites {
  const out: AppliedWrites = {
    values: { ...base.values },
    versions: { ...base.versions },
    changed: new Set(),
    available: [],
    sends: [],
    appends: {},
  };
  for (const channel of consumed) {
    if (spec.channels.get(channel)?.kind !== "join") continue;
    out.values[channel] = [];
    out.changed.add(channel);
  }
  for (const [channel, updates] of groupByChannel(groups)) {
    if (channel === TASKS) {
      out.sends.push(...(updates as PendingSend[]));
      continue;
    }
    applyChannel(spec, out, channel, updates);
  }
  if (out.changed.size === 0) return out;
  // Every channel changed by this commit gets the same new version, above any the thread has
  // used (on any branch): (channel, version) names one value for good.
  const next = Math.max(versionFloor, maxVersion(base.versions)) + 1;
  for (const channel of out.changed) out.versions[channel] = next;
  return out;
}

/** The state a node sees: the state keys of a checkpoint's channels. */
export function readState(spec: GraphSpec, values: Record<string, unknown>): Record<string, unknown> {
  const state: Record<string, unknown> = {};
  for (const key of spec.stateKeys) {
    const value = values[key];
    if (value !== undefined) state[key] = value;
  }
  return state;
}
