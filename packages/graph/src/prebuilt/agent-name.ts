// LangGraph's withAgentName: a model that reads the names of the agents behind the AI messages
// in its history (several agents writing one message list, as under a supervisor), for providers
// that drop a message's `name`. "inline" writes the name into the content —
// `<name>alice</name><content>Hello</content>` — on the way in, and takes it out of the answer.
import type { LanguageModelLike } from "@langchain/core/language_models/base";
import {
  AIMessage,
  type AIMessageFields,
  type BaseMessage,
  isAIMessage,
  isAIMessageChunk,
  isBaseMessage,
  type MessageContent,
} from "@langchain/core/messages";
import { type Runnable, RunnableLambda, RunnableSequence } from "@langchain/core/runnables";
import { InvalidGraphError } from "../errors.ts";

/** How an agent's name reaches the model: only "inline" (in the content), as LangGraph's. */
export type AgentNameMode = "inline";

const NAME_TAG = /<name>(.*?)<\/name>/s;
const CONTENT_TAG = /<content>(.*?)<\/content>/s;

const inline = (name: string, text: string) => `<name>${name}</name><content>${text}</content>`;

type Block = Exclude<MessageContent, string>[number];
const isTextBlock = (block: Block): block is { type: "text"; text: string } =>
  typeof block === "object" && block !== null && block.type === "text" && typeof block.text === "string";

/** `message`'s fields for a new AIMessage: what it was made with, where it kept them. */
function fieldsOf(message: BaseMessage): Record<string, unknown> {
  const kwargs = (message as { lc_kwargs?: Record<string, unknown> }).lc_kwargs;
  return kwargs !== undefined && Object.keys(kwargs).length > 0 ? kwargs : { ...message };
}

/** An AIMessage of these fields (`name: undefined` leaves it unnamed). */
const aiMessage = (fields: Record<string, unknown>) => new AIMessage(fields as AIMessageFields);

/** A named AI message with its name in its content's text (each text part), and none in `name`. */
export function addInlineAgentName(message: BaseMessage): BaseMessage {
  // As LangGraph's: anything but a named AI message object (a `{ role, content }` a prompt
  // function gave, a tuple, a string) reaches the model as it was.
  if (!isBaseMessage(message)) return message;
  if (!(isAIMessage(message) || isAIMessageChunk(message as never)) || !message.name) return message;
  const { name } = message;
  if (typeof message.content === "string")
    return aiMessage({ ...fieldsOf(message), content: inline(name, message.content), name: undefined });
  let texts = 0;
  const content: Block[] = message.content.map((block: Block | string) => {
    if (typeof block === "string") {
      texts += 1;
      return inline(name, block) as unknown as Block;
    }
    if (!isTextBlock(block)) return block;
    texts += 1;
    return { ...block, text: inline(name, block.text) };
  });
  if (texts === 0) content.unshift({ type: "text", text: inline(name, "") });
  // As LangGraph's: the fields it was made with (a chunk's), the content and name replaced.
  return aiMessage({
    ...(message as { lc_kwargs?: object }).lc_kwargs,
    content: content as MessageContent,
    name: undefined,
  });
}

/** The first name tag and content tag in `text`. */
const tagsIn = (text: string) => ({ named: NAME_TAG.exec(text), inner: CONTENT_TAG.exec(text) });

/** An AI answer whose content carries `<name>…</name><content>…</content>`: the content alone, the name in `name`. */
export function removeInlineAgentName(message: BaseMessage): BaseMessage {
  if (!isAIMessage(message) || !message.content) return message;
  let name: string | undefined;
  let content: MessageContent;
  if (typeof message.content === "string") {
    const { named, inner } = tagsIn(message.content);
    if (named === null || inner === null) return message;
    name = named[1];
    content = inner[1] as string;
  } else {
    // As LangGraph's, in its order: the parts that only name an agent go (naming the answer),
    // then the parts that hold content keep only it (naming it again: such a part's name wins).
    const tagsOf = (block: Block) => (isTextBlock(block) ? tagsIn(block.text) : undefined);
    content = message.content.filter((block: Block) => {
      const tags = tagsOf(block);
      if (tags?.named == null || (tags.inner !== null && tags.inner[1] !== "")) return true;
      name = tags.named[1];
      return false;
    });
    content = content.map((block: Block) => {
      const tags = tagsOf(block);
      if (tags?.named == null || tags.inner === null) return block;
      name = tags.named[1];
      return { ...block, text: tags.inner[1] as string };
    }) as MessageContent;
  }
  return aiMessage({ ...fieldsOf(message), content, name });
}

/** The messages a prompt gave: a list, or a prompt value (a ChatPromptTemplate's). */
function messagesOf(input: unknown): BaseMessage[] {
  if (Array.isArray(input)) return input;
  const value = input as { toChatMessages?: () => BaseMessage[] } | null;
  if (typeof value?.toChatMessages === "function") return value.toChatMessages();
  throw new InvalidGraphError(
    `withAgentName: the model's input must be a list of messages (or a chat prompt's value); got ${typeof input}.`,
  );
}

/**
 * `model` reading the names of the agents behind its history's AI messages, as LangGraph.js's
 * `withAgentName` (`@langchain/langgraph/prebuilt`): with "inline", each named AI message it is
 * given carries the name in its content (`<name>alice</name><content>…</content>`), and the
 * name tags are taken out of its answer (the name goes to the answer's `name`). The model stays
 * a step of the sequence, so its callbacks and streamed tokens reach the graph's streams.
 */
export function withAgentName(model: LanguageModelLike, agentNameMode: AgentNameMode): Runnable {
  if (agentNameMode !== "inline")
    throw new InvalidGraphError(
      `withAgentName: agentNameMode must be "inline" (the name in the content); got ${JSON.stringify(agentNameMode)}.`,
    );
  return RunnableSequence.from([
    RunnableLambda.from((input: unknown) => messagesOf(input).map(addInlineAgentName)),
    model as Runnable,
    RunnableLambda.from((answer: BaseMessage) => removeInlineAgentName(answer)),
  ]);
}
