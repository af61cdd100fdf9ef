// LangGraph's pushMessage: a node sends a message it made to the "messages" stream at once (a
// progress note, a message built by hand rather than by a chat model), and the message is written
// to the state's messages with the node's other writes when it returns.
import { currentTask } from "./context.ts";
import { InvalidUpdateError, OutsideNodeError } from "./errors.ts";
import { type Message, toMessage } from "./state/messages.ts";

export interface PushMessageOptions {
  /** The state key the message is written to; null streams it only. @defaultValue "messages" */
  stateKey?: string | null;
}

/**
 * Streams `message` (a message, or what a messages key takes: `{ role, content, id }`…) to the
 * "messages" stream now, and writes it to `stateKey` with the node's writes when the node returns
 * (a node that pauses or fails writes nothing; run again, it pushes again). The message needs an
 * id: the state's reducer replaces by it, so a node that also returns the message keeps one.
 * As LangGraph.js's, the options may come with the node's config (`{ ...config, stateKey }`); as
 * LangGraph's Python, third (`pushMessage(message, config, { stateKey })`). A message pushed after
 * its node returned (from a timer it left) goes nowhere.
 */
export function pushMessage(message: unknown, options?: unknown, legacy?: PushMessageOptions): Message {
  const task = currentTask();
  if (task === undefined) throw new OutsideNodeError("pushMessage()");
  const hook = task.pushHook;
  if (hook === undefined)
    throw new InvalidUpdateError(
      "pushMessage() is for StateGraph nodes: an entrypoint's or task's result is what it returns, so return the message instead.",
    );
  const pushed = toMessage(message);
  if (typeof pushed.id !== "string" || pushed.id === "")
    throw new InvalidUpdateError(
      "pushMessage() needs a message with an id (new AIMessage({ content, id }), or { role, content, id }): the state's reducer replaces a message by its id, so the node may return it again.",
    );
  if (!hook.open) return pushed as unknown as Message;
  task.progress?.(); // a timed node's progress
  hook.push(pushed, stateKeyOf(options, legacy));
  return pushed as unknown as Message;
}

/** The state key pushMessage writes to: the options' (with the config, or third), else "messages"; null: none. */
function stateKeyOf(options: unknown, legacy: PushMessageOptions | undefined): string | undefined {
  const given =
    typeof options === "object" && options !== null && Object.hasOwn(options, "stateKey")
      ? (options as PushMessageOptions)
      : legacy;
  return given?.stateKey === null ? undefined : (given?.stateKey ?? "messages");
}
