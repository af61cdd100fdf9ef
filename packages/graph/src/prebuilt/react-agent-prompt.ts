// The prompt of createReactAgent: what turns the agent's state into the messages its model reads,
// as LangGraph's `prompt` (and its older `stateModifier` / `messageModifier`) does it.
import {
  type BaseMessage,
  type BaseMessageLike,
  isBaseMessage,
  SystemMessage,
} from "@langchain/core/messages";
import { Runnable, type RunnableConfig, RunnableLambda } from "@langchain/core/runnables";
import { InvalidGraphError } from "../errors.ts";

/** State as a prompt reads it: the messages, and whatever else the agent's state holds. */
type PromptState = { messages: BaseMessage[]; [key: string]: unknown };

/**
 * What the model reads, from the agent's state:
 * - a string: a SystemMessage with it, before the state's messages;
 * - a SystemMessage: put before the state's messages;
 * - a function `(state, config) => messages` (or a promise of them);
 * - a Runnable that takes the state and gives the messages (a ChatPromptTemplate…).
 */
export type Prompt = SystemMessage | string | PromptFunction | Runnable;

/** A prompt function; a state type with the agent's own keys is accepted (bivariant, as a method's). */
type PromptFunction = {
  bivarianceHack(state: PromptState, config: RunnableConfig): BaseMessageLike[] | Promise<BaseMessageLike[]>;
}["bivarianceHack"];

/** @deprecated Use Prompt instead. */
export type StateModifier = Prompt;

/** @deprecated Use Prompt instead. What the model reads, from the state's messages alone. */
export type MessageModifier =
  | SystemMessage
  | string
  | { bivarianceHack(messages: BaseMessage[]): BaseMessage[] | Promise<BaseMessage[]> }["bivarianceHack"]
  | Runnable;

/** The run name LangGraph gives the prompt's runnable (what traces and streamEvents show). */
const PROMPT_RUN_NAME = "prompt";

const isSystemMessage = (value: unknown): value is SystemMessage =>
  isBaseMessage(value) && value.getType() === "system";

/** A prompt's runnable under the run name LangGraph gives it. */
const named = (fn: (state: PromptState, config: RunnableConfig) => unknown) =>
  RunnableLambda.from(fn).withConfig({ runName: PROMPT_RUN_NAME });

/** A messageModifier as the prompt it stands for: the same, applied to the state's messages. */
function fromMessageModifier(modifier: MessageModifier): Prompt {
  if (typeof modifier === "string" || isSystemMessage(modifier)) return modifier;
  if (typeof modifier === "function") return async (state: PromptState) => modifier(state.messages);
  if (Runnable.isRunnable(modifier)) {
    return RunnableLambda.from((state: PromptState) => state.messages).pipe(modifier);
  }
  throw new InvalidGraphError(
    `createReactAgent: messageModifier is a string, a SystemMessage, a function or a Runnable; got ${typeof modifier}.`,
  );
}

/** `prompt` as a runnable from the agent's state to the model's messages. */
function promptRunnable(prompt: Prompt | undefined): Runnable {
  if (prompt == null) return named((state) => state.messages);
  if (typeof prompt === "string") {
    const system = new SystemMessage(prompt);
    return named((state) => [system, ...(state.messages ?? [])]);
  }
  if (isSystemMessage(prompt)) return named((state) => [prompt, ...state.messages]);
  if (typeof prompt === "function") return named(prompt);
  if (Runnable.isRunnable(prompt)) return prompt;
  throw new InvalidGraphError(
    `createReactAgent: prompt is a string, a SystemMessage, a function or a Runnable; got ${typeof prompt}.`,
  );
}

/** The agent's prompt from the one of `prompt`, `stateModifier` and `messageModifier` given. */
export function agentPrompt(options: {
  prompt?: Prompt | undefined;
  stateModifier?: StateModifier | undefined;
  messageModifier?: MessageModifier | undefined;
}): Runnable {
  const { prompt, stateModifier, messageModifier } = options;
  if ([prompt, stateModifier, messageModifier].filter((given) => given != null).length > 1) {
    throw new InvalidGraphError(
      "createReactAgent takes one of prompt, stateModifier and messageModifier; got several. Give prompt alone (the others are its deprecated names).",
    );
  }
  if (stateModifier != null) return promptRunnable(stateModifier);
  if (messageModifier != null) return promptRunnable(fromMessageModifier(messageModifier));
  return promptRunnable(prompt);
}
