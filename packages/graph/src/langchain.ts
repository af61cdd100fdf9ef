// LangChain's callbacks and context, where the application has `@langchain/core` (an optional
// peer): how "messages" streams and streamEvents hear the chat models and tools nodes call.
import { AsyncLocalStorage } from "node:async_hooks";
import { currentTask } from "./context.ts";
import { InvalidInputError } from "./errors.ts";
import type { NodeConfig } from "./graph/spec.ts";

export type LangChainMessage = {
  id?: string | undefined;
  tool_call_id?: string;
  lc_kwargs?: Record<string, unknown>;
};

interface CallbackManager {
  handlers: object[];
  setHandlers(handlers: object[], inherit?: boolean): void;
  addTags(tags: string[], inherit?: boolean): void;
  addMetadata(metadata: Record<string, unknown>, inherit?: boolean): void;
  handleChainStart(
    chain: object,
    inputs: unknown,
    runId?: string,
    runType?: string,
    tags?: string[],
    metadata?: Record<string, unknown>,
    runName?: string,
  ): Promise<ChainRun>;
}

/** A chain run LangChain's manager started: its id, its child manager, and its end. */
interface ChainRun {
  runId: string;
  getChild(tag?: string): CallbackManager;
  handleChainEnd(output: unknown): Promise<void>;
  handleChainError(error: unknown): Promise<void>;
}

interface LangChain {
  isBaseMessage(value: unknown): value is LangChainMessage;
  isBaseMessageChunk(value: unknown): value is LangChainMessage;
  isToolMessage(value: unknown): boolean;
  AIMessageChunk: new (fields: { content: string; id?: string }) => LangChainMessage;
  BaseCallbackHandler: new () => object;
  CallbackManager: new (parentRunId?: string) => CallbackManager;
  context: {
    runWithConfig<T>(config: unknown, callback: () => T, avoidCreatingRootRunTree?: boolean): T;
    initializeGlobalInstance(instance: AsyncLocalStorage<unknown>): void;
    getRunnableConfig(): unknown;
  };
}

async function loadLangChain(): Promise<LangChain | undefined> {
  try {
    const [messages, base, manager, singletons] = await Promise.all([
      import("@langchain/core/messages"),
      import("@langchain/core/callbacks/base"),
      import("@langchain/core/callbacks/manager"),
      import("@langchain/core/singletons"),
    ]);
    return {
      ...(messages as unknown as Omit<LangChain, "BaseCallbackHandler" | "CallbackManager" | "context">),
      BaseCallbackHandler: base.BaseCallbackHandler as unknown as new () => object,
      CallbackManager: manager.CallbackManager as unknown as new () => CallbackManager,
      context: singletons.AsyncLocalStorageProviderSingleton as unknown as LangChain["context"],
    };
  } catch {
    return undefined;
  }
}

/** What LangChain's callback managers pass a handler's `handleChatModelStart`. */
export type ChatModelStart = [
  llm: { id?: string[] },
  messages: unknown,
  runId: string,
  parentRunId: string | undefined,
  extraParams: unknown,
  tags: string[] | undefined,
  metadata: Record<string, unknown> | undefined,
  runName: string | undefined,
];

/** What LangChain's callback managers pass a handler's `handleToolStart` (the input as a JSON string). */
export type ToolStart = [
  tool: { id?: string[] },
  input: string,
  runId: string,
  parentRunId: string | undefined,
  tags: string[] | undefined,
  metadata: Record<string, unknown> | undefined,
  runName: string | undefined,
];

/** `@langchain/core`'s parts, or undefined where it is not installed. */
export const lc = await loadLangChain();
// As LangGraph does on import: LangChain runnables find their caller's config (callbacks, tags)
// in this context, here and in the nodes a stream's handlers hear.
lc?.context.initializeGlobalInstance(new AsyncLocalStorage());

/**
 * A LangChain callback handler with `methods` for one stream's nodes (`config.callbacks`); an
 * inert object without `@langchain/core`. Its methods run inside the model or tool call, not in
 * LangChain's background queue, so what they report is sent before the node returns.
 */
export function callbackHandler(methods: object): object {
  if (lc === undefined) return {};
  return Object.assign(new lc.BaseCallbackHandler(), { awaitHandlers: true }, methods);
}

/**
 * The handlers of a call's `config.callbacks` (LangChain's: a list of handlers, or a
 * `CallbackManager`); undefined when none were given. Anything else is refused.
 */
export function callbackList(callbacks: unknown): readonly object[] | undefined {
  if (callbacks === undefined || callbacks === null) return undefined;
  const list = Array.isArray(callbacks) ? callbacks : (callbacks as Partial<CallbackManager>).handlers;
  if (!Array.isArray(list) || list.some((handler) => typeof handler !== "object" || handler === null))
    throw new InvalidInputError(
      "config.callbacks must be a list of LangChain callback handlers (objects with handle… methods) or a CallbackManager.",
    );
  return list.length === 0 ? undefined : list;
}

/**
 * The run a call's `config.callbacks` is a child manager of (a node's config passed on to a
 * subgraph; a manager the caller made under a run of its own); undefined for a list of handlers.
 */
export function parentRunOf(callbacks: unknown): string | undefined {
  const parent = (callbacks as { getParentRunId?: () => unknown } | undefined)?.getParentRunId?.();
  return typeof parent === "string" ? parent : undefined;
}

/** A chain run's inputs as LangChain's tracers take them: an object, else `{ input }`. */
function chainInputs(input: unknown): Record<string, unknown> {
  return typeof input === "object" && input !== null && !Array.isArray(input)
    ? (input as Record<string, unknown>)
    : { input };
}

/**
 * Ends `run` once: with the call's output or error, or with the abort's reason as soon as
 * `signal` aborts (a timed-out attempt, a cancelled run): a call that never settles, or settles
 * after its attempt was given up, leaves no run open and records no late success.
 */
function runEnding(run: ChainRun, signal: AbortSignal | undefined) {
  let ended = false;
  const end = async (how: () => Promise<void>) => {
    if (ended) return;
    ended = true;
    signal?.removeEventListener("abort", onAbort);
    await how();
  };
  const onAbort = () => void end(() => run.handleChainError(signal?.reason));
  if (signal?.aborted) onAbort();
  else signal?.addEventListener("abort", onAbort, { once: true });
  return end;
}

/**
 * Runs `call` as a chain run of the node's (LangGraph's node runs): the handlers hear its start,
 * end or error (tracers: a node's run, its models and tools under it, with a trace id); the node
 * gets, and finds in LangChain's context, a config whose callbacks are the run's child manager,
 * which passes the node's tags and metadata on — a model bound with tags or metadata of its own
 * (`withConfig`), or called with a config of a few keys, still carries the node's — and under
 * which `dispatchCustomEvent` (it needs a parent run) reaches the handlers.
 */
async function nodeRun<T>(
  langchain: LangChain,
  config: NodeConfig,
  handlers: readonly object[],
  input: unknown,
  call: (config: NodeConfig) => T,
): Promise<Awaited<T>> {
  const task = currentTask();
  // Under its caller's node run (a subgraph's node, a task() call), as LangGraph's nest them.
  const manager = new langchain.CallbackManager(task?.chainParent);
  manager.setHandlers([...handlers], true);
  manager.addTags([...config.tags], true);
  manager.addMetadata(config.metadata, true);
  const name = String(config.metadata.langgraph_node);
  const serialized = { lc: 1, type: "not_implemented", id: ["langgraph", "node", name] };
  const run = await manager.handleChainStart(
    serialized,
    chainInputs(input),
    undefined,
    undefined,
    undefined,
    undefined,
    name,
  );
  if (task !== undefined) task.chainRun = run.runId;
  const end = runEnding(run, config.signal);
  const own: NodeConfig = { ...config, callbacks: run.getChild() };
  try {
    const output = await langchain.context.runWithConfig(own, () => call(own));
    await end(() => run.handleChainEnd(output));
    return output;
  } catch (error) {
    await end(() => run.handleChainError(error));
    throw error;
  }
}

/**
 * Calls a node with its config (and its `input`, what its run says it started with). Where it
 * has callbacks (the call's, a stream's), as a chain run of LangChain's (see nodeRun).
 */
export function callNode<T>(
  config: NodeConfig,
  input: unknown,
  call: (config: NodeConfig) => T,
): T | Promise<Awaited<T>> {
  const handlers = config.callbacks;
  if (lc === undefined || handlers === undefined || !Array.isArray(handlers)) return call(config);
  return nodeRun(lc, config, handlers, input, call);
}
