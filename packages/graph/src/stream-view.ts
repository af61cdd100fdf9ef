// What a run's "values" and "updates" show of the state, as LangGraph's stream channels: every
// key, or a subgraph's output schema's when it runs from invoke() inside a streaming run.
import { readState, type Write } from "./algo/apply-writes.ts";
import { readPendingWrites } from "./algo/pending.ts";
import { baseState } from "./base-state.ts";
import { rootView, viewOf } from "./graph/state-views.ts";
import type { LoadedHead } from "./head.ts";
import type { StepEnv } from "./step-env.ts";
import { storedValues } from "./untracked.ts";

/** Whether `key` is a state key the run's stream shows. */
function shown(env: StepEnv, key: string): boolean {
  if (env.spec.root !== undefined) return key === env.spec.root.output;
  return env.spec.state.fields.has(key) && (env.streamKeys === undefined || env.streamKeys.includes(key));
}

/**
 * Whether `writes` (a superstep's tasks', an input's) write a key the stream shows: LangGraph
 * streams "values" after a superstep or an input only then.
 */
export function writesShown(env: StepEnv, writes: ReadonlyArray<readonly Write[]>): boolean {
  return writes.some((list) => list.some(([channel]) => shown(env, channel)));
}

/** `values` as the run's stream shows them. */
export function shownValues(env: StepEnv, values: Record<string, unknown>): unknown {
  if (env.spec.root !== undefined) return rootView(env.spec, values);
  return leaving(env, viewOf(values, env.streamKeys));
}

/** `value` as a chunk leaving the process shows it (see Emitter.leavesProcess): without untracked keys. */
export function leaving<T>(env: StepEnv, value: T): T {
  return env.emit?.leavesProcess === true ? storedValues(env.spec, value) : value;
}

/** The writes of an input object (its keys with a value), to ask writesShown about. */
function inputWrites(input: unknown): Write[] {
  if (typeof input !== "object" || input === null) return [];
  return Object.entries(input).filter(([, value]) => value !== undefined) as Write[];
}

/**
 * Streams `head`'s state in "values" (where a run starts from), and returns it; after an input,
 * only when it wrote a key the stream shows (`written`), as LangGraph's.
 */
export function emitValues(env: StepEnv, head: LoadedHead, written?: unknown): LoadedHead {
  if (!env.emit?.modes.has("values")) return head;
  if (written !== undefined && !writesShown(env, [inputWrites(written)])) return head;
  env.emit.push("values", shownValues(env, readState(env.spec, head.checkpoint.channelValues)));
  return head;
}

/**
 * A resume's first "values" chunk: the state it resumes from with its Command's `update` applied
 * (recorded beside the checkpoint until the superstep commits), as LangGraph's shows it.
 */
export function emitResumedValues(env: StepEnv, head: LoadedHead): LoadedHead {
  if (!env.emit?.modes.has("values")) return head;
  const { values } = baseState(env, head, readPendingWrites(head.pendingWrites));
  env.emit.push("values", shownValues(env, readState(env.spec, values)));
  return head;
}
