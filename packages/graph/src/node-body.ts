// How a node's own code runs (a StateGraph node's, an entrypoint's, a task() call's): in its
// task's context, with pushMessage's hook where it may push (a StateGraph node's, for that attempt
// alone), and with ids given to the interrupts it throws without one (NodeInterrupt).
import { AsyncLocalStorage } from "node:async_hooks";
import { type TaskContext, taskContext } from "./context.ts";
import { askedIds, isGraphInterrupt } from "./interrupt.ts";

/** Where pushMessage sends a message: one attempt of one StateGraph node. */
export interface PushHook {
  /** False once the attempt ended: a message pushed later (a timer the node left) goes nowhere. */
  open: boolean;
  push(message: object, stateKey: string | undefined): void;
}

/** The hook of the node attempt running: kept by the async context, so a late timer keeps its own. */
export const messagePushes = new AsyncLocalStorage<PushHook | undefined>();

/** Runs `body`, the code of the node of `context`, with `hook` (none: pushMessage is refused). */
export async function runBody<T>(
  context: TaskContext,
  hook: PushHook | undefined,
  body: () => T | Promise<T>,
): Promise<T> {
  try {
    return await taskContext.run(context, () => messagePushes.run(hook, body));
  } catch (error) {
    if (isGraphInterrupt(error)) askedIds(error, context);
    throw error;
  } finally {
    if (hook !== undefined) hook.open = false;
  }
}
