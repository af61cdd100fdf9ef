// Chat messages in state, as LangGraph's MessagesAnnotation keeps them: a list merged by message
// id. Messages are LangChain's when `@langchain/core` is installed (an optional peer, as for the
// serializer); without it they are the plain objects nodes write, merged the same way.
import { randomUUID } from "node:crypto";
// biome-ignore lint/suspicious/noTsIgnore: an optional peer; @ts-expect-error would fail where it is installed.
// @ts-ignore -- without @langchain/core installed, BaseMessage is `any` (messages are plain objects then).
import type { BaseMessage } from "@langchain/core/messages";
import { reviveLangChain } from "@layover/checkpoint";
import { z } from "zod";
import { InvalidUpdateError } from "../errors.ts";
import { Annotation } from "./annotation.ts";
import { ReducedValue } from "./state-schema.ts";
import { type SchemaMeta, withLangGraph } from "./zod-meta.ts";

type MessageClass = new (fields: Record<string, unknown>) => MessageRecord;
type LangChainMessages = {
  coerceMessageLikeToMessage: (like: unknown) => MessageRecord;
  isBaseMessage: (value: unknown) => boolean;
  BaseMessageChunk: { isInstance(value: unknown): boolean };
} & Record<
  "HumanMessage" | "AIMessage" | "SystemMessage" | "ToolMessage" | "FunctionMessage" | "ChatMessage",
  MessageClass
>;
const lc = (await import("@langchain/core/messages").catch(() => undefined)) as LangChainMessages | undefined;

/**
 * A message in state, typed as LangGraph.js types it: LangChain's `BaseMessage` where
 * `@langchain/core` is installed (so `state.messages` goes to `model.invoke` as it is, and
 * `message.getType()` compiles); `any` without it, where messages are the plain objects nodes write.
 */
export type Message = BaseMessage;
/** A message as the reducer handles it: an object with an optional `id`. */
type MessageRecord = { id?: string; lc_kwargs?: Record<string, unknown>; [key: string]: unknown };
/** What a node may write to a messages key: one message-like or a list of them. */
export type Messages = unknown;

/** The id of a RemoveMessage that clears the list before the messages that follow it. */
export const REMOVE_ALL_MESSAGES = "__remove_all__";

function isRemove(message: MessageRecord): boolean {
  const type = typeof message.getType === "function" ? (message.getType as () => string)() : message.type;
  return type === "remove";
}

/**
 * What a refused message-like is, never what it holds: it is what a user wrote, and the error
 * reaches the worker's logs, where users' state is redacted unless LAYOVER_LOG_PAYLOADS is set.
 */
function kindOf(like: unknown): string {
  if (Array.isArray(like)) return "an array";
  if (like === null) return "null";
  return typeof like === "object" ? "an object" : `a ${typeof like}`;
}

/**
 * A chunk as the message of its type, as LangGraph.js 1.7.3's reducer keeps it: a model called
 * while a stream asks for "messages" streams, and returns an `AIMessageChunk`; state holds an
 * `AIMessage`, whichever mode streams.
 */
function unchunked(messages: LangChainMessages, message: MessageRecord): MessageRecord {
  // By shape too (a chunk concatenates): one made by another copy of @langchain/core (its CommonJS
  // build, loaded by require) is not an instance of this one's classes.
  const chunk =
    messages.BaseMessageChunk.isInstance(message) ||
    (typeof message.concat === "function" && typeof message.getType === "function");
  if (!chunk) return message;
  const classes: Record<string, MessageClass> = {
    human: messages.HumanMessage,
    ai: messages.AIMessage,
    system: messages.SystemMessage,
    tool: messages.ToolMessage,
    function: messages.FunctionMessage,
    generic: messages.ChatMessage,
  };
  const MessageClass = classes[(message.getType as () => string)()];
  if (MessageClass === undefined) return message;
  const fields = Object.entries(message).filter(
    ([key]) => key !== "type" && key !== "tool_call_chunks" && !key.startsWith("lc_"),
  );
  return new MessageClass(Object.fromEntries(fields));
}

/** A message-like as a message: LangChain's coercion (strings, tuples, `{ role, content }`, serialized messages). */
export function toMessage(like: unknown): MessageRecord {
  if (lc === undefined) return checkedObject(like);
  return unchunked(lc, langChainMessage(lc, like));
}

/** Without LangChain, a message is the object a node writes. */
function checkedObject(like: unknown): MessageRecord {
  if (typeof like !== "object" || like === null)
    throw new InvalidUpdateError(
      `A message must be an object; got ${kindOf(like)}. Install @langchain/core to write strings or [role, content] pairs.`,
    );
  return like as MessageRecord;
}

function langChainMessage(messages: LangChainMessages, like: unknown): MessageRecord {
  if (messages.isBaseMessage(like)) return like as MessageRecord;
  const serialized = like as { lc?: unknown };
  const revived =
    typeof like === "object" && like !== null && serialized.lc === 1
      ? reviveLangChain(like as Record<string, unknown>)
      : like;
  return messages.isBaseMessage(revived) ? (revived as MessageRecord) : coerced(messages, revived);
}

/**
 * LangChain's coercion. Its error quotes the whole message it refused ("Received: {…}"), so it is
 * not passed on, not even as a cause; an update that cannot be applied fails the superstep.
 */
function coerced(messages: LangChainMessages, like: unknown): MessageRecord {
  try {
    return messages.coerceMessageLikeToMessage(like);
  } catch {
    throw new InvalidUpdateError(
      `LangChain cannot make a message of ${kindOf(like)} written to a messages key: write a message, a string, ` +
        'a [role, content] pair or { role, content } with a role such as "user", "assistant", "system" or "tool".',
    );
  }
}

function withId(message: MessageRecord): MessageRecord {
  if (message.id !== undefined && message.id !== null) return message;
  const id = randomUUID();
  message.id = id;
  if (message.lc_kwargs !== undefined) message.lc_kwargs.id = id;
  return message;
}

function asList(value: Messages): MessageRecord[] {
  if (value === undefined || value === null) return [];
  return (Array.isArray(value) ? value : [value]).map((like) => withId(toMessage(like)));
}

/**
 * LangGraph's `messagesStateReducer` (`addMessages`): appends messages, replaces one that has the
 * id of a message already there, deletes one a `RemoveMessage` names (an unknown id is an error),
 * and a `RemoveMessage` with id REMOVE_ALL_MESSAGES clears what came before it. Messages without
 * an id get a new one.
 */
export function messagesStateReducer(left: Messages, right: Messages): Message[] {
  return mergeMessages(left, right) as unknown[] as Message[];
}

function mergeMessages(left: Messages, right: Messages): MessageRecord[] {
  const current = asList(left);
  const incoming = asList(right);
  const clearAt = incoming.findLastIndex((m) => m.id === REMOVE_ALL_MESSAGES && isRemove(m));
  if (clearAt !== -1) return incoming.slice(clearAt + 1);
  const merged = [...current];
  const at = new Map(current.map((m, i) => [m.id as string, i]));
  // Removed at the end: a message removed and given again in one write keeps its place.
  const removed = new Set<string>();
  for (const message of incoming) {
    const id = message.id as string;
    const index = at.get(id);
    if (index !== undefined) {
      if (isRemove(message)) removed.add(id);
      else {
        removed.delete(id);
        merged[index] = message;
      }
    } else if (isRemove(message)) {
      throw new Error(`Cannot remove message "${id}": no message in the list has that id.`);
    } else {
      at.set(id, merged.length);
      merged.push(message);
    }
  }
  return removed.size === 0 ? merged : merged.filter((m) => !removed.has(m.id as string));
}

/** LangGraph's other name for messagesStateReducer. */
export const addMessages = messagesStateReducer;

/** State with a `messages` list merged by id: `StateGraph(MessagesAnnotation)`, or spread its `spec` into your own root. */
export const MessagesAnnotation = Annotation.Root({
  messages: Annotation<Message[], Messages>({ reducer: messagesStateReducer, default: () => [] }),
});

/** The same key for zod state: `new StateSchema({ messages: MessagesValue, … })`. */
export const MessagesValue = new ReducedValue<Message[], Messages>(
  z.array(z.custom<Message>()).default(() => []),
  { reducer: messagesStateReducer },
);

/** LangGraph's meta for a zod state's `messages`: merged by id, from an empty list. */
export const MessagesZodMeta: SchemaMeta<Message[], Messages> = {
  reducer: { fn: messagesStateReducer },
  jsonSchemaExtra: { langgraph_type: "messages" },
  default: () => [],
};

/**
 * State with a `messages` list merged by id, as a zod object (LangGraph's MessagesZodState):
 * `new StateGraph(MessagesZodState)`, or `MessagesZodState.extend({ … })` for a state of one's own.
 * Nodes may write any message-like value, as to MessagesAnnotation.
 */
export const MessagesZodState = z.object({
  messages: withLangGraph(z.custom<Message[]>(), MessagesZodMeta) as unknown as z.ZodType<
    Message[],
    Messages
  >,
});
