// How a node's own code runs (a StateGraph node's, an entrypoint's, a task() call's): in its
// task's context, with pushMessage's hook where it may push (a StateGraph node's, for that attempt
// alone), and with ids given to the interrupts it throws without one (NodeInterrupt).
import { type PushHook, type TaskContext, taskContext } from "./context.ts";
import { askedIds, isGraphInterrupt } from "./interrupt.ts";

/** Runs `body`, the code of the node of `context`, with `hook` (none: pushMessage is refused). */
export async function runBody<T>(
  context: TaskContext,
  hook: PushHook | undefined,
  body: () => T | Promise<T>,
): Promise<T> {
  context.pushHook = hook;
  try {
    return await taskContext.run(context, body);
  } catch (error) {
    if (isGraphInterrupt(error)) askedIds(error, context);
    throw error;
  } finally {
    if (hook !== undefined) hook.open = false;
  }
}
