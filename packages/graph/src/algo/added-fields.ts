import type { GraphSpec } from "../graph/spec.ts";
import { type ChannelState, maxVersion } from "./apply-writes.ts";

/**
 * A thread's channels with the state fields it has never held given their defaults: fields a
 * later version of the graph added while the thread waited (a new thread starts from every
 * default; one started before the field existed would read it as undefined, and a reducer would
 * take its first update as the whole value). Each such field gets a version above any the thread
 * has used, as on a new thread, and is `changed`: the next commit stores it. undefined when the
 * thread holds every field that has a default (always, for threads of the graph's own version).
 */
export function withAddedFields(
  spec: GraphSpec,
  state: ChannelState,
  versionFloor: number,
): (ChannelState & { changed: Set<string> }) | undefined {
  let added: (ChannelState & { changed: Set<string> }) | undefined;
  const next = Math.max(versionFloor, maxVersion(state.versions)) + 1;
  for (const [key, field] of spec.state.fields) {
    // An UntrackedValue's value is never stored: its default stands in wherever it is missing.
    const missing =
      field.untracked === undefined ? state.versions[key] === undefined : state.values[key] === undefined;
    if (!missing) continue;
    const value = field.initial();
    if (value === undefined) continue;
    added ??= { values: { ...state.values }, versions: { ...state.versions }, changed: new Set() };
    added.values[key] = value;
    if (state.versions[key] !== undefined) continue;
    added.versions[key] = next;
    added.changed.add(key);
  }
  return added;
}
