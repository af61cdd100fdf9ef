// The channels a superstep's tasks start from: the head's, with what was recorded before they
// run (an input given with a resume) and the defaults of fields the thread never held.
import { withAddedFields } from "./algo/added-fields.ts";
import { applyWrites, type ChannelState } from "./algo/apply-writes.ts";
import type { PendingState } from "./algo/pending.ts";
import type { LoadedHead } from "./head.ts";
import type { StepEnv } from "./step-env.ts";

export interface BaseState extends ChannelState {
  changed: Set<string>;
  available: string[];
  sends: { node: string; arg: unknown }[];
}

/**
 * `head`'s channels with the writes recorded before its tasks run (an input given with a resume),
 * and the defaults of state fields the thread never held (added by a later version of the graph).
 */
export function baseState(env: StepEnv, head: LoadedHead, pending: PendingState): BaseState {
  const { channelValues, channelVersions } = head.checkpoint;
  const start = withAddedFields(
    env.spec,
    { values: channelValues, versions: channelVersions },
    head.versionFloor,
  );
  const { values, versions } = start ?? { values: channelValues, versions: channelVersions };
  const changed = start?.changed ?? new Set<string>();
  if (pending.input.length === 0) return { values, versions, changed, available: [], sends: [] };
  const applied = applyWrites(env.spec, { values, versions }, [pending.input], [], head.versionFloor);
  return { ...applied, changed: new Set([...changed, ...applied.changed]) };
}
