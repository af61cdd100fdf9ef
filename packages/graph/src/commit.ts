// Turning a superstep's applied writes into the thread's next head, and storing heads.
//
// Durability (LangGraph's `durability` option) decides when a head is stored:
// - "sync" and "async" store every superstep's checkpoint before the next superstep starts,
//   except that a worker's stepper (StepperOptions.holdAsync) holds an "async" one while the
//   next runs: a chain of held heads (`Deferred.chain`), each stored in the background once the
//   event loop is free, or with its successor's commit in one put (`saver.putMany`).
// - "exit" holds a head that more supersteps follow in memory (`LoadedHead.deferred`); the
//   supersteps after it fold into it, and one put stores the last of them when the run stops
//   (ends, pauses, fails) or, in a worker, hands the thread over. A process that dies in between
//   loses only work it had not stored: the thread's stored head is still a committed checkpoint
//   and the run redoes the supersteps after it.
import { createHash } from "node:crypto";
import {
  type Checkpoint,
  type CheckpointKey,
  type CheckpointMetadata,
  type CheckpointSaver,
  isLayoverError,
  jsonSerializer,
  type ListAppend,
  type PutCheckpointArgs,
} from "@layover/checkpoint";
import { type AppliedWrites, appendHints, maxVersion } from "./algo/apply-writes.ts";
import type { GraphSpec } from "./graph/spec.ts";
import type { Deferred, LoadedHead } from "./head.ts";
import { storedPut } from "./untracked.ts";

/** When a run's checkpoints are stored (LangGraph's values; in-process, "async" is stored as "sync" is). */
export type Durability = "sync" | "async" | "exit";

/**
 * Metadata key of the seed a checkpoint's task ids derive from, when not its own id. A
 * superstep held in memory gets a new checkpoint id each time it runs (a worker that died
 * before storing it, then the next job running it again); its tasks — their ids, the
 * idempotency keys nodes get, subgraph namespaces — must not change with it. So under "exit"
 * each checkpoint carries a seed derived from its parent's, stored with it.
 */
export const TASK_SEED = "task_seed";

/**
 * Metadata key of a subgraph run's input (a hash), on each of its checkpoints: the task that
 * called it keeps a finished call's result only for the same input (see `enter`).
 */
export const SUBGRAPH_INPUT = "subgraph_input";

/** The hash a subgraph call's input is known by under SUBGRAPH_INPUT. */
export function subgraphInputKey(input: unknown): string {
  // Normalised through a stored round trip: an input built from state in memory and the same
  // input rebuilt from a checkpoint (a key holding undefined reads back absent) hash alike.
  const stored = jsonSerializer.dumps(jsonSerializer.loads(jsonSerializer.dumps(input ?? null)));
  return createHash("sha1").update(stored).digest("hex");
}

/** The seed of the tasks planned from `head`'s checkpoint. */
export function taskSeed(head: LoadedHead): string {
  const seed = head.metadata[TASK_SEED];
  return typeof seed === "string" ? seed : head.checkpoint.id;
}

/** The append hints of `next` on top of `before`'s: an earliest base stays valid while every change appended. */
function foldAppends(
  before: Deferred | undefined,
  changed: readonly string[],
  hints: Readonly<Record<string, ListAppend>> | undefined,
): Map<string, ListAppend> {
  const appends = new Map(before?.appends);
  for (const channel of changed) {
    const hint = hints?.[channel];
    if (hint === undefined) appends.delete(channel);
    else if (before === undefined || !before.changed.has(channel)) appends.set(channel, hint);
  }
  return appends;
}

/**
 * The head after a superstep from `head`, not yet stored: `deferred` says what its put needs.
 * When `head` itself is unstored, the new head either takes its place (durability "exit": same
 * stored parent, the channels changed by both, append hints against the values stored there)
 * or follows it in a chain (`chain`: a held "async" superstep, stored with its successor).
 */
export function nextHead(
  head: LoadedHead,
  checkpoint: Checkpoint,
  metadata: CheckpointMetadata,
  applied: AppliedWrites,
  changedBefore: ReadonlySet<string>,
  chain = false,
): LoadedHead {
  const before = head.deferred;
  const stepChanged = changedBefore.size
    ? [...new Set([...changedBefore, ...applied.changed])]
    : [...applied.changed];
  const hints = appendHints(applied, changedBefore);
  // A chain's heads are stored one by one, each against the one before it; "exit" folds them.
  const base = before === undefined ? head : before.stored;
  const deferred: Deferred = chain
    ? {
        stored: base,
        changed: new Set(stepChanged),
        appends: new Map(Object.entries(hints ?? {})),
        chain: before === undefined ? [] : [...(before.chain ?? []), head],
      }
    : {
        stored: base,
        changed: new Set([...(before?.changed ?? []), ...stepChanged]),
        appends: foldAppends(before, stepChanged, hints),
      };
  return {
    checkpoint,
    metadata,
    parentId: chain ? head.checkpoint.id : (base?.checkpoint.id ?? null),
    pendingWrites: [],
    expectedHead: base?.expectedHead ?? null,
    versionFloor: Math.max(head.versionFloor, maxVersion(checkpoint.channelVersions)),
    deferred,
  };
}

/** Where a run's unstored heads are stored: `saver.put`, or a caller's put (a worker's final one). */
export interface StoreEnv {
  saver: CheckpointSaver;
  key: CheckpointKey;
  /** The graph's keys never stored (UntrackedValue): puts leave them out. */
  spec?: Pick<GraphSpec, "untracked"> | undefined;
  /** The store in flight (a held chain stored in the background): the next waits for it. */
  storing?: Promise<void> | undefined;
  /**
   * Set when a background store failed (another process stored from the same head first, a
   * value no checkpoint can hold, a lost connection): the run stores in the foreground before
   * it runs more nodes.
   */
  stalled?: boolean | undefined;
}

type ChainPut = (chain: readonly PutCheckpointArgs[]) => Promise<void>;

/** The puts that store `head`: its held predecessors not stored yet (a chain), then itself. */
function putsOf(env: StoreEnv, head: LoadedHead, deferred: Deferred): PutCheckpointArgs[] {
  return unstoredPuts(env, head, deferred).map((args) => storedPut(env.spec, args));
}

/** The puts that store `head`, with every key's value (putsOf leaves out the untracked). */
function unstoredPuts(env: StoreEnv, head: LoadedHead, deferred: Deferred): PutCheckpointArgs[] {
  if (deferred.chain === undefined) {
    return [
      {
        ...env.key,
        checkpoint: head.checkpoint,
        metadata: head.metadata,
        parentId: deferred.stored?.checkpoint.id ?? null,
        expectedHead: deferred.stored?.expectedHead ?? null,
        changedChannels: [...deferred.changed],
        appends: deferred.appends.size > 0 ? Object.fromEntries(deferred.appends) : undefined,
      },
    ];
  }
  const elements = [...deferred.chain, head];
  const puts: PutCheckpointArgs[] = [];
  elements.forEach((element, i) => {
    if (element.deferred === undefined) return;
    const parent = i === 0 ? deferred.stored : (elements[i - 1] as LoadedHead);
    puts.push({
      ...env.key,
      checkpoint: element.checkpoint,
      metadata: element.metadata,
      parentId: parent?.checkpoint.id ?? null,
      // The first follows a stored head (whose expectedHead may be a fork's actual head), or none
      // on a new thread; the rest follow the one before them.
      expectedHead:
        parent === undefined
          ? null
          : parent.deferred === undefined
            ? parent.expectedHead
            : parent.checkpoint.id,
      changedChannels: [...element.deferred.changed],
      appends: element.deferred.appends.size > 0 ? Object.fromEntries(element.deferred.appends) : undefined,
    });
  });
  return puts;
}

function markStored(element: LoadedHead): void {
  delete element.deferred;
  element.expectedHead = element.checkpoint.id;
}

async function storeDeferred(env: StoreEnv, head: LoadedHead, deferred: Deferred, put: ChainPut | undefined) {
  // The heads the puts store, in their order (putsOf skips those stored already).
  const storing = [...(deferred.chain ?? []), head].filter((element) => element.deferred !== undefined);
  const puts = putsOf(env, head, deferred);
  if (put !== undefined || (puts.length > 1 && env.saver.putMany !== undefined)) {
    await (put ?? (env.saver.putMany as ChainPut).bind(env.saver))(puts);
    storing.forEach(markStored);
    return;
  }
  // One put per head, each marked as it lands: a failure leaves those before it stored.
  for (const [i, args] of puts.entries()) {
    await env.saver.put(args);
    markStored(storing[i] as LoadedHead);
  }
}

/**
 * Stores `head` if it is not stored yet — with the held heads before it, when it ends a chain —
 * in one put (`saver.putMany` for a chain), compare-and-set on the stored head they follow,
 * through `put` when given (a worker's put that also ends the run). Waits for a store in flight.
 * A `background` store (storeWhenIdle) leaves alone heads a caller's store has tried: once that
 * failed, the run goes on from the last stored head, not from one stored behind its back.
 */
export async function storeHead(
  env: StoreEnv,
  head: LoadedHead,
  put: ChainPut | undefined = undefined,
  background = false,
) {
  while (env.storing !== undefined) await env.storing.catch(() => undefined);
  const deferred = head.deferred;
  if (deferred === undefined || (background && deferred.claimed)) return;
  if (!background) {
    for (const element of [...(deferred.chain ?? []), head]) {
      if (element.deferred !== undefined) element.deferred.claimed = true;
    }
  }
  const storing = storeDeferred(env, head, deferred, put);
  env.storing = storing;
  try {
    await storing;
  } finally {
    if (env.storing === storing) env.storing = undefined;
  }
}

/** Writes that cannot be applied together or stored: the superstep's own failure, never a retry. */
export function unappliable(error: unknown): boolean {
  return isLayoverError(error, "INVALID_UPDATE") || isLayoverError(error, "NOT_SERIALIZABLE");
}

/**
 * Stores `head` if it is held in memory only. A chain of supersteps that cannot be stored (a
 * value JSON cannot hold) fails as a whole: the result is then the last stored head.
 */
export async function stored(
  env: StoreEnv,
  head: LoadedHead,
  put: ChainPut | undefined = undefined,
): Promise<{ head: LoadedHead; error?: unknown }> {
  try {
    await storeHead(env, head, put);
    return { head };
  } catch (error) {
    if (head.deferred === undefined || !unappliable(error)) throw error;
    return { head: await lastStorable(env, head.deferred, error), error };
  }
}

/**
 * The last head before one that cannot be stored that can: a held predecessor (stored now, with
 * the chain before it), else the stored head they follow. With neither (a new thread whose held
 * input itself cannot be stored) the error stands.
 */
async function lastStorable(env: StoreEnv, deferred: Deferred, error: unknown): Promise<LoadedHead> {
  const chain = deferred.chain ?? [];
  for (let i = chain.length - 1; i >= 0; i--) {
    const candidate = chain[i] as LoadedHead;
    try {
      await storeHead(env, candidate);
      return candidate;
    } catch (again) {
      if (!unappliable(again)) throw again;
    }
  }
  if (deferred.stored === undefined) throw error;
  return deferred.stored;
}

/** What says whether a run holds supersteps in memory. */
interface HoldEnv {
  durability: Durability;
  holdAsync?: boolean | undefined;
}

/** Held "async" supersteps: stored with the next one (a chain), not before it runs. */
export function holdsAsync(env: HoldEnv): boolean {
  return env.holdAsync === true && env.durability === "async";
}

/**
 * Stores a held "async" head once the event loop is free: right away when the next superstep
 * awaits I/O, after it when it does not (its commit then stores both, and this finds nothing
 * left). A failure marks the run `stalled`: its stepper stores in the foreground, meeting the
 * failure again, before it runs another superstep.
 */
export function storeWhenIdle(env: HoldEnv & StoreEnv, head: LoadedHead): void {
  if (!holdsAsync(env) || head.deferred === undefined) return;
  setImmediate(() => {
    storeHead(env, head, undefined, true).catch(() => {
      env.stalled = true;
    });
  });
}

/** Whether supersteps that others follow may be held in memory (durability "exit", or held "async"). */
export function holds(env: HoldEnv): boolean {
  return env.durability === "exit" || holdsAsync(env);
}

const DURABILITIES: ReadonlySet<unknown> = new Set<Durability>(["sync", "async", "exit"]);

export function isDurability(value: unknown): value is Durability {
  return DURABILITIES.has(value);
}

/**
 * The durability a config asks for, from `durability` or LangGraph's deprecated
 * `checkpointDuring: false`; undefined when it asks for none (callers apply their default).
 * Not checked: see `isDurability`.
 */
export function requestedDurability(
  config: { durability?: unknown; checkpointDuring?: unknown } | undefined,
): unknown {
  return config?.durability ?? (config?.checkpointDuring === false ? "exit" : undefined);
}
