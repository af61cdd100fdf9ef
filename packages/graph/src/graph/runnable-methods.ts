// LangChain's Runnable methods a LangGraph.js compiled graph has beside invoke and stream:
// withConfig (a config under every call's) and batch (invoke over a list of inputs).
import type { RunnableConfig } from "./environment.ts";

/**
 * `given` over `bound`, as LangChain's mergeConfigs: `configurable` and `metadata` key by key,
 * `tags` and callback lists together, any other field the call's where it gives one.
 */
export function mergeConfigs(
  bound: RunnableConfig | undefined,
  given: RunnableConfig | undefined,
): RunnableConfig | undefined {
  if (bound === undefined) return given;
  if (given === undefined) return bound;
  const merged: RunnableConfig = { ...bound };
  for (const [key, value] of Object.entries(given) as [keyof RunnableConfig, unknown][]) {
    if (value !== undefined) (merged as Record<string, unknown>)[key] = value;
  }
  if (bound.configurable || given.configurable)
    merged.configurable = { ...bound.configurable, ...given.configurable };
  if (bound.metadata || given.metadata) merged.metadata = { ...bound.metadata, ...given.metadata };
  if (bound.tags || given.tags) merged.tags = [...new Set([...(bound.tags ?? []), ...(given.tags ?? [])])];
  if (Array.isArray(bound.callbacks) && Array.isArray(given.callbacks))
    merged.callbacks = [...bound.callbacks, ...given.callbacks];
  return merged;
}

/** LangChain's batch options: how many inputs run at once, and errors returned in place of results. */
export interface BatchOptions {
  /** @defaultValue every input at once (or the config's `maxConcurrency`) */
  maxConcurrency?: number;
  /** A failed input's error takes its place in the results, instead of failing the batch. */
  returnExceptions?: boolean;
}

/**
 * `invoke` over `inputs`, each with its config (`configs` as a list, or one for all), at most
 * `maxConcurrency` at once; the results in the inputs' order.
 */
export async function batchInvoke<I, O>(
  invoke: (input: I, config?: RunnableConfig) => Promise<O>,
  inputs: readonly I[],
  configs: RunnableConfig | readonly RunnableConfig[] | undefined,
  options: BatchOptions = {},
): Promise<(O | Error)[]> {
  const configOf = (i: number) =>
    Array.isArray(configs) ? configs[i] : (configs as RunnableConfig | undefined);
  const limit =
    options.maxConcurrency ??
    ((configOf(0) as { maxConcurrency?: number } | undefined)?.maxConcurrency || inputs.length);
  const results: (O | Error)[] = new Array(inputs.length);
  let next = 0;
  const worker = async () => {
    while (next < inputs.length) {
      const i = next++;
      try {
        results[i] = await invoke(inputs[i] as I, configOf(i));
      } catch (error) {
        if (options.returnExceptions !== true) throw error;
        results[i] = error as Error;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, inputs.length)) }, worker));
  return results;
}
