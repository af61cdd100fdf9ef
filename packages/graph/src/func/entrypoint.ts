// LangGraph's functional API: `entrypoint` makes a workflow of one function a graph — one node
// that runs it, its input and value single values — which runs, pauses, resumes, streams and
// is served by workers as any compiled graph is; `task()` functions it calls are durable steps.

import type { BaseCache, BaseStore, CheckpointSaver } from "@layover/checkpoint";
import type { Command } from "../command.ts";
import { END, START } from "../constants.ts";
import { currentTask } from "../context.ts";
import { InvalidGraphError, OutsideNodeError } from "../errors.ts";
import { buildGraphSpec } from "../graph/build-spec.ts";
import { checkedCache, checkedCheckpointer, checkedStore } from "../graph/checked-parts.ts";
import { CompiledStateGraph } from "../graph/compiled-graph.ts";
import type { RunnableConfig } from "../graph/environment.ts";
import type { LangGraphRunnableConfig, NodeSpec } from "../graph/spec.ts";
import { checkedTimeout, type TimeoutPolicy } from "../node-timeout.ts";
import type { FieldSpec } from "../state/definition.ts";
import { checkedFunction, checkedName } from "./task.ts";

/** The channels of an entrypoint's state, as LangGraph's: its input, its value, what it saved. */
const INPUT = START;
const OUTPUT = END;
const PREVIOUS = "__previous__";

/**
 * The value an entrypoint's checkpoint holds (null before its first run returns), as getState
 * shows it, read without the workflow's code (a producer reading a thread); undefined for a
 * StateGraph's checkpoint, which has no "__start__" channel.
 */
export function entrypointValue(checkpoint: {
  channelValues: Record<string, unknown>;
  channelVersions: Record<string, unknown>;
}): { value: unknown } | undefined {
  if (!Object.hasOwn(checkpoint.channelVersions, INPUT)) return undefined;
  return { value: checkpoint.channelValues[OUTPUT] ?? null };
}

export interface EntrypointOptions {
  /** The workflow's name: its node's name (in "updates", `next`, task events). */
  name: string;
  /** Where its runs are stored: required to pause (`interrupt()`) and for `getPreviousState()`. */
  checkpointer?: CheckpointSaver | false | undefined;
  /** The long-term store its code reaches (`getStore()`). On workers, leave it out. */
  store?: BaseStore | undefined;
  /** Where its tasks with a cachePolicy keep their results. On workers, leave it out. */
  cache?: BaseCache | undefined;
  /** LangGraph's timeout of one run of its function, as a node's (`addNode(…, { timeout })`). */
  timeout?: number | TimeoutPolicy | undefined;
}

const FINAL: unique symbol = Symbol.for("layover.entrypointFinal");

/** What `entrypoint.final` makes: a value to return, and another to keep for the next run. */
export interface EntrypointFinal<V, S> {
  readonly [FINAL]: true;
  value: V;
  save: S;
}

function isFinal(value: unknown): value is EntrypointFinal<unknown, unknown> {
  return typeof value === "object" && value !== null && (value as { [FINAL]?: unknown })[FINAL] === true;
}

type Unfinal<T> = T extends EntrypointFinal<infer V, any> ? V : T;

/** A compiled entrypoint: `invoke(input, config)` resolves to what its function returned. */
export class CompiledEntrypoint<I, O> extends CompiledStateGraph<any, any> {
  override invoke(input: I | Command | null | undefined, config?: RunnableConfig): Promise<O> {
    return super.invoke(input, config) as Promise<O>;
  }
}

/** What an entrypoint's node writes for what it returned: its value, and what it keeps for the next run. */
function entrypointWrites(returned: unknown): Record<string, unknown> {
  if (isFinal(returned)) return { [OUTPUT]: returned.value, [PREVIOUS]: returned.save };
  return { [OUTPUT]: returned, [PREVIOUS]: returned };
}

const lastValue = (): FieldSpec => ({ reducer: undefined, initial: () => undefined, check: undefined });

function entrypointNode<I>(
  name: string,
  fn: (input: I, config: LangGraphRunnableConfig) => unknown,
  timeout: TimeoutPolicy | undefined,
): NodeSpec {
  return {
    name,
    retryPolicy: undefined,
    ...(timeout === undefined ? {} : { timeout }),
    isSubgraph: false,
    run: async (input: I, config) => {
      return entrypointWrites(await fn(input, config));
    },
  };
}

function checkedOptions(given: string | EntrypointOptions): EntrypointOptions {
  const options = typeof given === "string" ? { name: given } : given;
  if (typeof options !== "object" || options === null)
    throw new InvalidGraphError("entrypoint(options, fn) takes a name, or { name, checkpointer?, store? }.");
  const unknown = Object.keys(options).filter(
    (key) => !["name", "checkpointer", "store", "cache", "timeout"].includes(key),
  );
  if (unknown.length > 0)
    throw new InvalidGraphError(
      `entrypoint() does not take ${unknown.map((key) => `"${key}"`).join(", ")}: it takes name, checkpointer, store, cache and timeout.`,
    );
  checkedCache(options.cache, "entrypoint({ cache })");
  if ((options.checkpointer as unknown) === true)
    throw new InvalidGraphError(
      "entrypoint({ checkpointer: true }) is not supported: give a checkpointer (MemorySaver, PostgresSaver), or leave it out.",
    );
  checkedStore(options.store, "entrypoint({ store })");
  checkedCheckpointer(options.checkpointer, "entrypoint({ checkpointer })");
  return { ...options, name: checkedName(options.name, "entrypoint") };
}

/**
 * A workflow of one function, as LangGraph's `entrypoint`: `fn(input, config)` runs as the graph's
 * only node; the `task()` functions it calls are durable (a resume gives back their results
 * instead of running them again); `interrupt()` pauses it; what it returns is what `invoke`
 * resolves to, and what `getPreviousState()` gives its next run on the thread
 * (`entrypoint.final({ value, save })` returns one and keeps another).
 */
function entrypointOf<I, R>(
  options: string | EntrypointOptions,
  fn: (input: I, config: LangGraphRunnableConfig) => R | Promise<R>,
): CompiledEntrypoint<I, Unfinal<Awaited<R>>> {
  const { name, checkpointer, store, cache, timeout } = checkedOptions(options);
  checkedFunction(fn, `entrypoint "${name}"`);
  const fields = new Map([INPUT, OUTPUT, PREVIOUS].map((key) => [key, lastValue()]));
  const spec = buildGraphSpec({
    name,
    state: { fields },
    nodes: new Map([[name, entrypointNode(name, fn, checkedTimeout(timeout, `entrypoint "${name}"`))]]),
    edges: [
      [START, name],
      [name, END],
    ],
    joins: [],
    branches: new Map(),
  });
  return new CompiledEntrypoint({
    spec: {
      ...spec,
      inputKeys: [INPUT],
      outputKeys: [OUTPUT],
      root: { input: INPUT, output: OUTPUT, previous: PREVIOUS, writes: entrypointWrites },
    },
    checkpointer,
    interruptBefore: new Set(),
    interruptAfter: new Set(),
    store,
    cache,
  });
}

/** `entrypoint.final({ value, save })`: the run returns `value` and keeps `save` for the next one. */
function final<V, S>({ value, save }: { value: V; save: S }): EntrypointFinal<V, S> {
  return { [FINAL]: true, value, save };
}

export const entrypoint = Object.assign(entrypointOf, { final });

/**
 * What the thread's last run of the running entrypoint returned (or saved with
 * `entrypoint.final`), as LangGraph's `getPreviousState()`; undefined on a thread's first run.
 */
export function getPreviousState<T = unknown>(): T {
  const context = currentTask();
  if (context === undefined) throw new OutsideNodeError("getPreviousState()");
  return context.previous as T;
}
