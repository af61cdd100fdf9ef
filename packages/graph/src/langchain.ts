// LangChain's callbacks and context, where the application has `@langchain/core` (an optional
// peer): how "messages" streams and streamEvents hear the chat models and tools nodes call.
import { AsyncLocalStorage } from "node:async_hooks";
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
 * The config a node's code gets and finds in LangChain's context, as LangGraph's: its callbacks a
 * manager of the node's run (its id the task's) that passes the node's tags and metadata on, so a
 * model bound with tags or metadata of its own (`withConfig`), or called with a config of a few
 * keys, still carries the node's, and `dispatchCustomEvent` (which needs a parent run) reaches
 * the handlers.
 */
function nodeRunConfig(langchain: LangChain, config: NodeConfig, handlers: readonly object[]): NodeConfig {
  const manager = new langchain.CallbackManager(config.metadata.langgraph_task_id);
  manager.setHandlers([...handlers], true);
  manager.addTags([...config.tags], true);
  manager.addMetadata(config.metadata, true);
  return { ...config, callbacks: manager };
}

/**
 * Calls a node with its config. Where it has callbacks (the call's, a stream's), the config's are
 * a LangChain CallbackManager of the node's run, and the call runs in LangChain's context with
 * it: a model or tool it calls without passing the config reports to them too.
 */
export function callNode<T>(config: NodeConfig, call: (config: NodeConfig) => T): T {
  const handlers = config.callbacks;
  if (lc === undefined || handlers === undefined || !Array.isArray(handlers)) return call(config);
  const own = nodeRunConfig(lc, config, handlers);
  return lc.context.runWithConfig(own, () => call(own));
}
