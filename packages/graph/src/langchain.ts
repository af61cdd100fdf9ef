// LangChain's callbacks and context, where the application has `@langchain/core` (an optional
// peer): how "messages" streams and streamEvents hear the chat models and tools nodes call.
import { AsyncLocalStorage } from "node:async_hooks";
import type { NodeConfig } from "./graph/spec.ts";

export type LangChainMessage = {
  id?: string | undefined;
  tool_call_id?: string;
  lc_kwargs?: Record<string, unknown>;
};

interface LangChain {
  isBaseMessage(value: unknown): value is LangChainMessage;
  isBaseMessageChunk(value: unknown): value is LangChainMessage;
  isToolMessage(value: unknown): boolean;
  AIMessageChunk: new (fields: { content: string; id?: string }) => LangChainMessage;
  BaseCallbackHandler: new () => object;
  context: {
    runWithConfig<T>(config: unknown, callback: () => T, avoidCreatingRootRunTree?: boolean): T;
    initializeGlobalInstance(instance: AsyncLocalStorage<unknown>): void;
    getRunnableConfig(): unknown;
  };
}

async function loadLangChain(): Promise<LangChain | undefined> {
  try {
    const [messages, base, singletons] = await Promise.all([
      import("@langchain/core/messages"),
      import("@langchain/core/callbacks/base"),
      import("@langchain/core/singletons"),
    ]);
    return {
      ...(messages as unknown as Omit<LangChain, "BaseCallbackHandler" | "context">),
      BaseCallbackHandler: base.BaseCallbackHandler as unknown as new () => object,
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

/** `@langchain/core`'s parts, or undefined where it is not installed. */
export const lc = await loadLangChain();

/** Set once this process made a handler: nodes then run with LangChain's context of their own. */
let streamed = false;
/** The handlers Layover's streams made: a node called inside a node they hear is not theirs. */
const handlers = new WeakSet<object>();

/**
 * A LangChain callback handler with `methods` for one stream's nodes (`config.callbacks`); an
 * inert object without `@langchain/core`. Its methods run inside the model or tool call, not in
 * LangChain's background queue, so what they report is sent before the node returns.
 */
export function callbackHandler(methods: object): object {
  if (lc === undefined) return {};
  if (!streamed) {
    // As LangGraph does on import: child runnables find their parent's config (and callbacks) here.
    lc.context.initializeGlobalInstance(new AsyncLocalStorage());
    streamed = true;
  }
  const handler = Object.assign(new lc.BaseCallbackHandler(), { awaitHandlers: true }, methods);
  handlers.add(handler);
  return handler;
}

/**
 * Calls a node. Once this process has made a handler, in LangChain's context: the node's own
 * config when a stream gives it callbacks (a model called without a config is heard too); a node
 * called inside a heard one (a subgraph's) in none, so its models are not heard as the outer's.
 */
export function callNode<T>(config: NodeConfig, call: () => T): T {
  if (!streamed || lc === undefined) return call();
  if (config.callbacks !== undefined) return lc.context.runWithConfig(config, call);
  const outer = lc.context.getRunnableConfig() as { callbacks?: unknown } | undefined;
  if (!Array.isArray(outer?.callbacks) || !outer.callbacks.some((handler) => handlers.has(handler)))
    return call();
  return lc.context.runWithConfig(undefined, call, true);
}
