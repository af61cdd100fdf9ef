// LangGraph's node cache around a superstep: before its tasks run, one read of the cache gives
// the writes kept for the tasks with a cachePolicy (a hit runs nothing); a task that finishes
// without asking anything keeps its writes there for its input.
import type { CacheFullKey } from "@layover/checkpoint";
import type { Write } from "./algo/apply-writes.ts";
import type { PlannedTask } from "./algo/plan.ts";
import { cacheKey, type GraphCache, readCache, scopedNode, writeCache } from "./graph/cache-policy.ts";
import type { CachePolicy } from "./graph/spec.ts";
import type { StepEnv } from "./step-env.ts";
import { storedWrites, withoutKeys } from "./untracked.ts";

/** What the cache says of a superstep's tasks, by task id. */
export interface CacheLookup {
  /** The writes kept for a task's input: it does not run. */
  hits: Map<string, Write[]>;
  /** Where a task that runs keeps its writes. */
  keys: Map<string, CacheFullKey>;
  /** A task whose key could not be made (its keyFunc failed): it fails with the error. */
  failures: Map<string, unknown>;
}

const NOTHING: CacheLookup = { hits: new Map(), keys: new Map(), failures: new Map() };

function policyOf(env: StepEnv, task: PlannedTask): CachePolicy | undefined {
  return env.spec.nodes.get(task.name)?.cachePolicy;
}

/**
 * Looks `tasks` (those about to run) up in the graph's cache, in one read; nothing, at once,
 * without a cache or a task with a cachePolicy (most supersteps).
 */
export function lookUpCached(
  env: StepEnv,
  tasks: readonly PlannedTask[],
  inputOf: (task: PlannedTask) => unknown,
): CacheLookup | Promise<CacheLookup> {
  const cache = env.cache;
  if (cache === undefined || !tasks.some((task) => policyOf(env, task) !== undefined)) return NOTHING;
  return readCached(env, cache, tasks, inputOf);
}

async function readCached(
  env: StepEnv,
  cache: GraphCache,
  tasks: readonly PlannedTask[],
  inputOf: (task: PlannedTask) => unknown,
): Promise<CacheLookup> {
  const lookup: CacheLookup = { hits: new Map(), keys: new Map(), failures: new Map() };
  for (const task of tasks) {
    const policy = policyOf(env, task);
    if (policy === undefined) continue;
    try {
      // The default key leaves out untracked keys (a client, a cache), as a key of stored input; a
      // keyFunc of the user's gets the input whole, as LangGraph's.
      const input =
        policy.keyFunc === undefined ? withoutKeys(inputOf(task), env.spec.untracked) : inputOf(task);
      lookup.keys.set(task.id, cacheKey(cache.name, scopedNode(cache, task.name), policy, input));
    } catch (error) {
      lookup.failures.set(task.id, error);
    }
  }
  if (lookup.keys.size === 0) return lookup;
  const found = await readCache(cache, [...lookup.keys.values()]);
  const byKey = new Map(found.map((hit) => [JSON.stringify(hit.key), hit.value]));
  for (const [taskId, key] of lookup.keys) {
    const writes = byKey.get(JSON.stringify(key));
    if (writes !== undefined && writesFit(env, writes)) lookup.hits.set(taskId, writes);
  }
  return lookup;
}

/**
 * Whether cached writes fit the graph: each to one of its channels. Another version of the graph
 * (a deploy that renamed or removed a key) may have kept them: then they are a miss, and the node
 * runs and keeps its own.
 */
function writesFit(env: StepEnv, writes: unknown): writes is Write[] {
  return (
    Array.isArray(writes) &&
    writes.every((write) => Array.isArray(write) && env.spec.channels.has(String(write[0])))
  );
}

/** Keeps a finished task's writes in the cache for its input, for as long as its policy says. */
export async function keepCached(env: StepEnv, task: PlannedTask, key: CacheFullKey, writes: Write[]) {
  const ttl = policyOf(env, task)?.ttl;
  if (env.cache !== undefined)
    await writeCache(env.cache, [
      { key, value: storedWrites(env.spec, writes), ...(ttl === undefined ? {} : { ttl }) },
    ]);
}
