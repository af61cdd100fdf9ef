// streamMode "messages", as LangGraph's: the tokens of the LangChain chat models a node calls
// (heard through LangChain's callbacks) and the messages nodes return, each as
// `[message, metadata]`. It needs `@langchain/core` (an optional peer): without it no chat model
// can run, and the mode streams the messages nodes return only if they are LangChain's.
import { isCommand } from "./command.ts";
import { type ChatModelStart, callbackHandler, lc, type LangChainMessage as Message } from "./langchain.ts";
import { type Emitter, messagesSeen } from "./stream.ts";

type Meta = Record<string, unknown>;

/** What the handler keeps for one stream: chat model runs under way, and the messages already sent. */
interface Streaming {
  emit: Emitter;
  /** Namespace segments a node of the streamed graph has: deeper ones are subgraphs', not streamed. */
  depth: number;
  metas: Map<string, Meta>;
  tokened: Set<string>;
  stableIds: Map<string, string>;
  seen: Set<string>;
  /** The namespaces of the `task()` calls made in the stream's nodes: streamed as their callers. */
  calls: Set<string>;
}

/**
 * One "messages" stream's listener: a LangChain callback handler (`config.callbacks` of the nodes,
 * and the context their model calls inherit), and what nodes' ends report.
 */
export interface MessagesStreamer {
  readonly handler: object;
  /** A node starts: the messages of its input are not news. */
  nodeStart(input: unknown): void;
  /** A node returned: the messages it returns that were not streamed already. */
  nodeEnd(meta: Meta, output: unknown): void;
  /** A node pushed `message` (pushMessage): streamed now, and not again when the node returns it. */
  pushed(meta: Meta, message: object): void;
  /** A `task()` call runs in namespace `ns`: its models stream as its caller's (LangGraph's do). */
  called(ns: string): void;
}

const streamers = new WeakMap<Emitter, MessagesStreamer>();

/**
 * The "messages" listener of stream `emit`, whose graph runs in namespace `ns` ("" at the top),
 * made once per stream; undefined when the stream does not ask for "messages".
 */
export function messagesStreamer(emit: Emitter | undefined, ns: string): MessagesStreamer | undefined {
  if (emit === undefined || !emit.modes.has("messages")) return undefined;
  let streamer = streamers.get(emit);
  if (streamer === undefined) {
    streamer = createStreamer({
      emit,
      depth: ns === "" ? 1 : ns.split("|").length + 1,
      metas: new Map(),
      tokened: new Set(),
      stableIds: new Map(),
      seen: messagesSeen(emit),
      calls: new Set(),
    });
    streamers.set(emit, streamer);
  }
  return streamer;
}

function emitMessage(
  s: Streaming,
  meta: Meta,
  message: Message,
  runId: string,
  dedupe = false,
  outputIdx?: number,
) {
  if (dedupe && message.id !== undefined && s.seen.has(message.id)) return;
  let id = message.id;
  if (lc?.isToolMessage(message)) id ??= `run-${runId}-tool-${message.tool_call_id}`;
  else if (outputIdx !== undefined) id ??= `run-${runId}-out-${outputIdx}`;
  else {
    // Every chunk of one model call carries one id: the first the call's chunks had.
    if (id === undefined || id === `run-${runId}`) id = s.stableIds.get(runId) ?? id ?? `run-${runId}`;
    if (!s.stableIds.has(runId)) s.stableIds.set(runId, id);
  }
  if (id !== message.id) {
    message.id = id;
    if (message.lc_kwargs !== undefined) message.lc_kwargs.id = id;
  }
  if (id !== undefined) s.seen.add(id);
  s.emit.push("messages", [message, meta]);
}

/** Whether `metadata`'s namespace is a subgraph's (not streamed); a task() call's segment does not count. */
function isNested(s: Streaming, metadata: Meta): boolean {
  const ns = metadata.langgraph_checkpoint_ns;
  if (typeof ns !== "string") return false;
  let parts = ns.split("|");
  while (parts.length > s.depth && s.calls.has(parts.join("|"))) parts = parts.slice(0, -1);
  return parts.length > s.depth;
}

function markSeen(s: Streaming, value: unknown) {
  if (!lc || !(lc.isBaseMessage(value) || lc.isBaseMessageChunk(value))) return;
  if (value.id !== undefined) s.seen.add(value.id);
}

/** LangChain's callbacks, as LangGraph's StreamMessagesHandler answers them. */
function callbackMethods(s: Streaming) {
  return {
    name: "LayoverMessagesStreamer",
    lc_prefer_streaming: true,
    handleChatModelStart(...args: ChatModelStart) {
      const [, , runId, , , tags, metadata, name] = args;
      if (metadata === undefined || tags?.includes("nostream") || tags?.includes("langsmith:nostream"))
        return;
      if (metadata.langgraph_checkpoint_ns === undefined || isNested(s, metadata)) return;
      s.metas.set(runId, { tags, name, ...metadata });
    },
    handleLLMNewToken(
      token: string,
      _idx: unknown,
      runId: string,
      _p: unknown,
      _t: unknown,
      fields?: { chunk?: { message?: unknown } },
    ) {
      s.tokened.add(runId);
      const meta = s.metas.get(runId);
      if (meta === undefined || lc === undefined) return;
      const message = fields?.chunk?.message;
      emitMessage(
        s,
        meta,
        lc.isBaseMessage(message) ? message : new lc.AIMessageChunk({ content: token }),
        runId,
      );
    },
    handleLLMEnd(output: { generations?: { message?: unknown }[][] }, runId: string) {
      const meta = s.metas.get(runId);
      if (meta !== undefined && !s.tokened.has(runId)) {
        // A model that did not stream: its whole answer, once.
        const message = output.generations?.[0]?.[0]?.message;
        if (lc?.isBaseMessage(message)) emitMessage(s, meta, message, runId, true);
      }
      s.tokened.delete(runId);
      s.metas.delete(runId);
      s.stableIds.delete(runId);
    },
    handleLLMError(_error: unknown, runId: string) {
      s.metas.delete(runId);
      s.tokened.delete(runId);
    },
  };
}

function createStreamer(s: Streaming): MessagesStreamer {
  return {
    handler: callbackHandler(callbackMethods(s)),
    nodeStart(input) {
      if (typeof input !== "object" || input === null) return;
      for (const value of Object.values(input)) {
        if (Array.isArray(value)) for (const item of value) markSeen(s, item);
        else markSeen(s, value);
      }
    },
    called(ns) {
      s.calls.add(ns);
    },
    pushed(meta, message) {
      const id = (message as Message).id; // pushMessage requires one
      if (id !== undefined) s.seen.add(id);
      s.emit.push("messages", [message, meta]);
    },
    nodeEnd(meta, output) {
      let index = 0;
      const runId = String(meta.langgraph_task_id);
      const emitOne = (value: unknown) => {
        if (!lc?.isBaseMessage(value)) return;
        emitMessage(s, meta, value, runId, true, index);
        index += 1;
      };
      const visit = (value: unknown): void => {
        if (isCommand(value)) visit(value.update);
        else if (lc?.isBaseMessage(value)) emitOne(value);
        else if (Array.isArray(value)) {
          const commands = value.some(isCommand);
          for (const item of value) commands ? visit(item) : emitOne(item);
        } else if (typeof value === "object" && value !== null)
          for (const item of Object.values(value)) Array.isArray(item) ? visit(item) : emitOne(item);
      };
      visit(output);
    },
  };
}
