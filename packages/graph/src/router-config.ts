// What a conditional edge's router is given when it runs outside a task: the edges of START on a
// run's input, and those of the node an update (updateState) stands for.
import { DEFAULT_RECURSION_LIMIT } from "./constants.ts";
import type { NodeConfig } from "./graph/spec.ts";
import { interrupt } from "./interrupt.ts";
import type { StepEnv } from "./step.ts";

/**
 * The config a router is called with outside any task (START's edges on an input, the edges of
 * an update's node), at `step`.
 */
export function routerConfig(env: StepEnv, node: string, step: number): NodeConfig {
  return {
    configurable: env.configurable,
    context: env.context,
    tags: env.tags,
    recursionLimit: env.recursionLimit ?? DEFAULT_RECURSION_LIMIT,
    signal: env.signal,
    writer: () => {},
    // A router runs outside any task: interrupt() there is refused (OutsideNodeError), as LangGraph's.
    interrupt,
    executionInfo: {
      nodeAttempt: 1,
      checkpointId: "",
      checkpointNs: env.key.ns,
      taskId: "",
      threadId: env.key.threadId,
    },
    metadata: {
      langgraph_node: node,
      langgraph_step: step,
      langgraph_task_id: "",
      langgraph_triggers: [],
      langgraph_path: [],
      langgraph_checkpoint_ns: env.key.ns,
      checkpoint_ns: env.key.ns,
      thread_id: env.key.threadId,
    },
    idempotencyKey: `${env.key.threadId}:${node}:${step}`,
  };
}
