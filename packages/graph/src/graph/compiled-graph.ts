import type { Graph as CoreGraph } from "@langchain/core/runnables/graph";
import type { BaseCache, BaseStore, CheckpointSaver } from "@layover/checkpoint";
import { readState } from "../algo/apply-writes.ts";
import type { Command } from "../command.ts";
import { SUBGRAPH_INPUT, subgraphInputKey } from "../commit.ts";
import { DEFAULT_RECURSION_LIMIT, INTERRUPT } from "../constants.ts";
import { currentTask } from "../context.ts";
import { GraphAbortedError, GraphRecursionError, InvalidInputError } from "../errors.ts";
import type { LoadedHead } from "../head.ts";
import { GraphInterrupt, type Interrupt } from "../interrupt.ts";
import { history, type StateSnapshot, snapshotOf, stateSnapshot } from "../snapshot.ts";
import { plannedTasks, runSuperstep, type StepEnv, type StepResult } from "../step.ts";
import {
  checkStreamModes,
  chunksOf,
  type Emitter,
  pushEvent,
  type StreamMode,
  wantsEvent,
} from "../stream.ts";
import { emitValues } from "../stream-view.ts";
import { storeOrFail } from "../uncommitted.ts";
import { withoutKeys } from "../untracked.ts";
import { updateThenContinue, updateThreadState } from "../update-state.ts";
import { cacheNamespace } from "./cache-policy.ts";
import { type DrawConfig, drawGraph, drawRoot, type GraphDrawing } from "./draw.ts";
import { enterRun } from "./enter-run.ts";
import { type RunnableConfig, runEnvironment, threadEnvironment } from "./environment.ts";
import type { StreamEventsFilters } from "./event-filters.ts";
import { inputJsonSchema } from "./input-schema.ts";
import type { IterableReadableStream } from "./iterable-stream.ts";
import { headAt, loadHead } from "./load-head.ts";
import { type BatchOptions, batchInvoke, mergeConfigs } from "./runnable-methods.ts";
import { type GraphSpec, graphAtNamespace } from "./spec.ts";
import { viewOf } from "./state-views.ts";
import { createStepper, type StepOutcome, type Stepper, type StepperOptions } from "./stepper.ts";
import { type StreamEvent, type StreamEventsConfig, streamEvents } from "./stream-events.ts";
import { streamRun, withStop } from "./stream-run.ts";

export type InvokeResult<S> = S & { [INTERRUPT]?: Interrupt[] };

/**
 * A run stopping with `error` stores the head it reached first (durability "exit" holds it in
 * memory); when those supersteps cannot be stored, the error that says why.
 */
async function stopped(env: StepEnv, head: LoadedHead, error: Error): Promise<unknown> {
  const unstorable = await storeOrFail(env, head);
  return unstorable?.status === "failed" ? unstorable.error : error;
}

export interface StreamConfig extends RunnableConfig {
  /** @defaultValue "updates", as LangGraph's StateGraph */
  streamMode?: StreamMode | StreamMode[];
  /**
   * Subgraphs stream too: each chunk comes as `[namespace, chunk]` (`[namespace, mode, chunk]`
   * for several modes), `[]` for the graph's own and `["node:taskId", …]` for a subgraph's.
   */
  subgraphs?: boolean;
}

/** Refuses LangGraph's `subgraphs: true`, which would change what the caller gets, rather than ignore it. */
function refuseSubgraphs(options: { subgraphs?: boolean } | undefined, call: string): void {
  if (options?.subgraphs === true)
    throw new InvalidInputError(
      `${call} with subgraphs: true is not supported: it gives subgraphs' model and tool events without it. ` +
        "Leave it out, or use stream(…, { subgraphs: true }) for subgraphs' chunks under their namespace.",
    );
}

/** A graph ready to run: `builder.compile({ checkpointer })`. */
export class CompiledStateGraph<S = Record<string, unknown>, U = Partial<S>> {
  readonly spec: GraphSpec;
  readonly checkpointer: CheckpointSaver | false | undefined;
  readonly interruptBefore: ReadonlySet<string> | "*";
  readonly interruptAfter: ReadonlySet<string> | "*";
  /** The long-term store its nodes reach (`compile({ store })`). */
  readonly store: BaseStore | undefined;
  /** Where nodes with a cachePolicy keep their writes (`compile({ cache })`). */
  readonly cache: BaseCache | undefined;
  /** The name its entries are kept under in the cache: its name, or on workers its graph id. */
  readonly cacheName: string;
  /** Told when the cache fails (the run goes on without it); undefined: a process warning. */
  readonly cacheOnError: ((error: unknown) => void) | undefined;
  /** The builder's calls, as getGraph() draws them; undefined for a graph no builder made. */
  readonly drawing: GraphDrawing | undefined;
  /** What the graph does (`compile({ description })`). */
  readonly description: string | undefined;
  /** The config under every call's (`withConfig`). */
  readonly bound: RunnableConfig | undefined;
  declare readonly "~types": { state: S; update: U };

  constructor(options: {
    spec: GraphSpec;
    checkpointer: CheckpointSaver | false | undefined;
    interruptBefore: ReadonlySet<string> | "*";
    interruptAfter: ReadonlySet<string> | "*";
    store?: BaseStore | undefined;
    cache?: BaseCache | undefined;
    cacheName?: string | undefined;
    cacheOnError?: ((error: unknown) => void) | undefined;
    drawing?: GraphDrawing | undefined;
    description?: string | undefined;
    bound?: RunnableConfig | undefined;
  }) {
    this.spec = options.spec;
    this.checkpointer = options.checkpointer;
    this.interruptBefore = options.interruptBefore;
    this.interruptAfter = options.interruptAfter;
    this.store = options.store;
    this.cache = options.cache;
    this.cacheName = options.cacheName ?? options.spec.name;
    this.cacheOnError = options.cacheOnError;
    this.drawing = options.drawing;
    this.description = options.description;
    this.bound = options.bound;
  }

  /** LangGraph's drawable graph (@langchain/core's `Graph`: `drawMermaid()`, `toJSON()`), laid out as LangGraph.js draws it. */
  getGraph(config?: DrawConfig): CoreGraph {
    if (this.drawing === undefined) return drawRoot(this.spec.name); // an entrypoint
    return drawGraph(this.drawing, [this.interruptBefore, this.interruptAfter], config);
  }

  /** getGraph(), as LangGraph.js's preferred async form. */
  async getGraphAsync(config?: DrawConfig): Promise<CoreGraph> {
    return this.getGraph(config);
  }

  get name(): string {
    return this.spec.name;
  }

  /** The same graph bound to another checkpointer: a worker binds the graphs it serves to its saver. */
  withCheckpointer(checkpointer: CheckpointSaver): CompiledStateGraph<S, U> {
    return new CompiledStateGraph<S, U>({ ...this, checkpointer });
  }

  /** The same graph with another long-term store: a worker gives the graphs it serves its Postgres store. */
  withStore(store: BaseStore): CompiledStateGraph<S, U> {
    return new CompiledStateGraph<S, U>({ ...this, store });
  }

  /**
   * The same graph with another node cache, its entries kept under `name`, its failures told to
   * `onError`: a worker gives the graphs it serves its Postgres cache, each under its graph id,
   * failures to its log.
   */
  withCache(cache: BaseCache, name = this.cacheName, onError = this.cacheOnError): CompiledStateGraph<S, U> {
    return new CompiledStateGraph<S, U>({ ...this, cache, cacheName: name, cacheOnError: onError });
  }

  /**
   * Removes what this graph's nodes (and tasks) keep in its cache, as LangGraph's `clearCache()`;
   * other graphs' entries in a cache they share are kept (LangGraph clears them too).
   */
  async clearCache(): Promise<void> {
    await this.cache?.clear([cacheNamespace(this.cacheName)]);
  }

  /**
   * JSON Schema of what `invoke` accepts as input: processes without the graph's code (a
   * producer) check a run's input against it before anything is written.
   */
  inputJsonSchema(): Record<string, unknown> {
    if (this.spec.root !== undefined) return {}; // an entrypoint takes any JSON value
    return inputJsonSchema(this.spec.state, this.spec.inputKeys, this.spec.input);
  }

  /** The JSON Schema of an update (`updateState`, a Command's `update`): any state key, as a node may write. */
  stateJsonSchema(): Record<string, unknown> {
    return this.spec.root !== undefined ? {} : inputJsonSchema(this.spec.state);
  }

  /** Runs until the graph ends or pauses. Paused: the state plus `__interrupt__`. */
  async invoke(input: U | Command | null | undefined, given?: RunnableConfig): Promise<InvokeResult<S>> {
    const config = mergeConfigs(this.bound, given);
    // As LangGraph's: asked for a stream mode other than "values", invoke returns its chunks, in a list.
    const mode = (config as StreamConfig | undefined)?.streamMode;
    if (mode !== undefined && mode !== "values")
      return (await chunksOf(await this.stream(input, config as StreamConfig))) as InvokeResult<S>;
    return (await this.run(input, config, undefined)) as InvokeResult<S>;
  }

  /** Like `invoke`, reporting as it goes: `for await (const chunk of await graph.stream(input, config))`. */
  async stream(
    input: U | Command | null | undefined,
    given?: StreamConfig,
  ): Promise<IterableReadableStream<any>> {
    const config = mergeConfigs(this.bound, given) as StreamConfig | undefined;
    const requested = config?.streamMode ?? "updates";
    const modes = Array.isArray(requested) ? requested : [requested];
    checkStreamModes(modes);
    const run = (emit: Emitter, stop: AbortSignal) => this.run(input, withStop(config, stop), emit);
    return streamRun(modes, !Array.isArray(requested), run, config?.subgraphs === true);
  }

  /**
   * LangChain's `streamEvents` (schema "v2"): `for await (const event of graph.streamEvents(input,
   * { ...config, version: "v2" }))`. The graph's and its nodes' chain events, and the chat models'
   * and tools' events its nodes call (on_chat_model_*, on_tool_*); none from inside subgraphs.
   */
  streamEvents(
    input: U | Command | null | undefined,
    given: StreamEventsConfig & { encoding: "text/event-stream" },
    filters?: StreamEventsFilters,
  ): IterableReadableStream<Uint8Array>;
  streamEvents(
    input: U | Command | null | undefined,
    given: StreamEventsConfig,
    filters?: StreamEventsFilters,
  ): IterableReadableStream<StreamEvent>;
  streamEvents(
    input: U | Command | null | undefined,
    given: StreamEventsConfig,
    filters?: StreamEventsFilters,
  ): IterableReadableStream<StreamEvent> | IterableReadableStream<Uint8Array> {
    const config = mergeConfigs(this.bound, given) as StreamEventsConfig;
    refuseSubgraphs(config, "streamEvents()");
    const graph = { name: this.name, root: this.spec.root?.output };
    const run = (emit: Emitter, stop: AbortSignal) => this.run(input, withStop(config, stop), emit);
    return streamEvents(graph, input, config, filters, run);
  }

  /** LangChain's `withConfig`: this graph with `config` under every call's (invoke, stream, batch). */
  withConfig(config: RunnableConfig): CompiledStateGraph<S, U> {
    return new CompiledStateGraph<S, U>({ ...this, bound: mergeConfigs(this.bound, config) });
  }

  /** LangChain's `batch`: `invoke` over each input (with its config, or one for all), results in order. */
  batch(
    inputs: readonly (U | Command | null | undefined)[],
    configs?: RunnableConfig | readonly RunnableConfig[],
    options?: BatchOptions,
  ): Promise<(InvokeResult<S> | Error)[]> {
    return batchInvoke((input, config) => this.invoke(input, config), inputs, configs, options);
  }

  private async run(input: unknown, config: RunnableConfig | undefined, emit: Emitter | undefined) {
    const { env, subgraph } = runEnvironment(this, config, emit);
    if (subgraph) {
      // Without untracked keys (the caller's and its own): a resumed parent no longer has them.
      const stored = withoutKeys(input, this.spec.untracked, currentTask()?.untracked);
      env.metadata = { ...env.metadata, [SUBGRAPH_INPUT]: subgraphInputKey(stored) };
    }
    const loaded = await loadHead(env, subgraph ? undefined : config?.configurable?.checkpoint_id);
    let head = await enterRun(env, loaded, input, subgraph);
    if (head === undefined) return {};
    // As LangGraph.js: "checkpoints" starts with the checkpoint the run goes on from (a resumed
    // one with the questions this run answers). A subgraph's stream to its parent's
    // (subgraphs: true) has them too, under its namespace.
    const events = wantsEvent(env.emit, "checkpoint") ? env.emit : undefined;
    if (events) this.emitCheckpoint(env, head, events, loaded);
    const limit = env.recursionLimit ?? DEFAULT_RECURSION_LIMIT;
    let steps = 0;
    let result: StepResult;
    for (;;) {
      if (env.signal?.aborted) throw await stopped(env, head, new GraphAbortedError(env.signal.reason));
      if (steps >= limit && plannedTasks(env, head).length > 0)
        throw await stopped(env, head, new GraphRecursionError(limit));
      result = await runSuperstep(env, head);
      const made = result.head.checkpoint.id !== head.checkpoint.id; // a pause or a failure makes none
      head = result.head;
      steps += 1;
      if (made && events) this.emitCheckpoint(env, head, events);
      if (result.status !== "next") break;
    }
    if (result.status === "failed") throw result.error;
    // invoke returns the output schema's keys (the state schema's without one), as LangGraph's.
    // A root graph (an entrypoint) returns its value; paused, only its interrupts, as LangGraph's.
    const root = env.spec.root;
    const output = (values: Record<string, unknown>) =>
      root === undefined ? viewOf(values, env.spec.outputKeys) : values[root.output];
    if (result.status !== "interrupted") return output(readState(env.spec, head.checkpoint.channelValues));
    if (subgraph && result.interrupts.length > 0) throw new GraphInterrupt(result.interrupts);
    if (root !== undefined) return { [INTERRUPT]: result.interrupts };
    const values = result.values ?? readState(env.spec, head.checkpoint.channelValues);
    return { ...(output(values) as object), [INTERRUPT]: result.interrupts };
  }

  /** A "checkpoints" event of `head`; its tasks keep the interrupts they had at `asked` (the same checkpoint, before a resume answered them). */
  private emitCheckpoint(env: StepEnv, head: LoadedHead, emit: Emitter, asked?: LoadedHead) {
    const snapshot = snapshotOf(env, head);
    const before =
      asked !== undefined && asked.checkpoint.id === head.checkpoint.id ? snapshotOf(env, asked).tasks : [];
    const tasks = snapshot.tasks.map((task) => {
      const answered = before.find((one) => one.id === task.id)?.interrupts ?? [];
      return task.interrupts.length === 0 && answered.length > 0 ? { ...task, interrupts: answered } : task;
    });
    pushEvent(emit, "checkpoint", head.metadata.step, {
      config: snapshot.config,
      parentConfig: snapshot.parentConfig,
      values: snapshot.values,
      metadata: snapshot.metadata,
      next: snapshot.next,
      tasks,
    });
  }

  /** The thread at its head, or at `configurable.checkpoint_id`. */
  async getState(
    given: RunnableConfig,
    options?: { subgraphs?: boolean; atNamespace?: boolean },
  ): Promise<StateSnapshot<S>> {
    const config = mergeConfigs(this.bound, given) as RunnableConfig;
    const graph = options?.atNamespace ? this : graphAtNamespace(this, config.configurable?.checkpoint_ns);
    const env = threadEnvironment(graph, config, "getState()");
    const at = config.configurable?.checkpoint_id;
    return (await stateSnapshot(env, at, options?.subgraphs === true)) as StateSnapshot<S>;
  }

  /** Every checkpoint of the thread, newest first. */
  async *getStateHistory(
    given: RunnableConfig,
    options: { limit?: number; before?: RunnableConfig; filter?: Record<string, unknown> } = {},
  ): AsyncIterableIterator<StateSnapshot<S>> {
    const config = mergeConfigs(this.bound, given) as RunnableConfig;
    const graph = graphAtNamespace(this, config.configurable?.checkpoint_ns);
    const env = threadEnvironment(graph, config, "getStateHistory()");
    yield* history(env, options) as AsyncIterableIterator<StateSnapshot<S>>;
  }

  /**
   * Applies `values` as if `asNode` had returned them and commits a new checkpoint; from an
   * older `checkpoint_id` this forks the thread. A Command routes by its `goto` as well; no
   * values with a node: the node ran and wrote nothing. Returns the new checkpoint's config.
   */
  async updateState(
    given: RunnableConfig,
    values: U | Record<string, unknown> | Command | null | undefined,
    asNode?: string,
  ): Promise<RunnableConfig> {
    const config = mergeConfigs(this.bound, given) as RunnableConfig;
    const env = threadEnvironment(this, config, "updateState()");
    const head = await loadHead(env, config.configurable?.checkpoint_id);
    const next = await updateThreadState(env, head, values, asNode);
    return {
      configurable: {
        thread_id: env.key.threadId,
        checkpoint_ns: env.key.ns,
        checkpoint_id: next.checkpoint.id,
      },
    };
  }

  /**
   * Records an input or a `Command` against the thread without running anything: the
   * producer half of a distributed run. Checks everything first; writes nothing on error.
   * `null` continues past a static breakpoint, as `invoke(null, config)` does.
   */
  async prepare(input: U | Command | null, config: RunnableConfig): Promise<{ checkpointId: string }> {
    const env = threadEnvironment(this, mergeConfigs(this.bound, config) as RunnableConfig, "prepare()");
    const head = await enterRun(env, await loadHead(env, undefined), input, false, false);
    return { checkpointId: (head as LoadedHead).checkpoint.id };
  }

  /**
   * The step seam: advances the thread by exactly one superstep from its head (load, plan,
   * run tasks, apply writes, commit with compare-and-set). A worker calls it once per job.
   */
  async step(config: RunnableConfig): Promise<StepOutcome> {
    // Nothing holds the head after this call: store it even when durability "exit" would wait.
    const stepper = this.stepper(config);
    const outcome = await stepper.step();
    return (await stepper.flush()) ?? outcome;
  }

  /**
   * `step()` repeatedly on one thread, keeping the head each superstep commits in memory so
   * the next one does not read it back; `prepare()` on it records a run's input on the same
   * held head. How a worker runs a job: one head read, then one commit per superstep.
   */
  stepper(config: RunnableConfig, options: StepperOptions = {}): Stepper {
    const { env } = runEnvironment(this, mergeConfigs(this.bound, config), options.emit, false);
    env.storeFinal = options.storeFinal;
    env.holdAsync = options.holdAsync;
    env.inputSeed = options.seed;
    env.storePause = options.storePause;
    env.subgraphsShareSaver = options.subgraphsShareSaver;
    if (options.subgraphsShareSaver === true) env.subgraphsCache = env.cache;
    let prefetched = options.head;
    const load = async (checkpointId?: string) => {
      const tuple = prefetched;
      prefetched = undefined; // a reload after an error reads the head again
      if (tuple === undefined) return loadHead(env, checkpointId);
      return headAt(env, await tuple, checkpointId);
    };
    const update = async (head: LoadedHead | undefined, values: unknown, asNode: string) =>
      emitValues(env, await updateThenContinue(env, head, values, asNode));
    return createStepper(env, load, (head, input) => enterRun(env, head, input, false), update);
  }
}
