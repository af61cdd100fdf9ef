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
 * `config` is accepted as LangGraph's second argument; the running node's is used.
 */
export function pushMessage(message: unknown, _config?: unknown, options: PushMessageOptions = {}): Message {
  const task = currentTask();
  if (task === undefined) throw new OutsideNodeError("pushMessage()");
  if (task.pushMessage === undefined)
    throw new InvalidUpdateError(
      "pushMessage() is for StateGraph nodes: an entrypoint's or task's result is what it returns, so return the message instead.",
    );
  const pushed = toMessage(message);
  if (typeof pushed.id !== "string" || pushed.id === "")
    throw new InvalidUpdateError(
      "pushMessage() needs a message with an id (new AIMessage({ content, id }), or { role, content, id }): the state's reducer replaces a message by its id, so the node may return it again.",
    );
  const stateKey = options.stateKey === null ? undefined : (options.stateKey ?? "messages");
  task.pushMessage(pushed, stateKey);
  return pushed as unknown as Message;
}
