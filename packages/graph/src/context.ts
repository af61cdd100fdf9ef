import { AsyncLocalStorage } from "node:async_hooks";
import type { CheckpointSaver } from "@layover/checkpoint";

/** What a running node can reach through `interrupt()`, subgraphs and the custom stream. */
export interface TaskContext {
  threadId: string;
  ns: string;
  taskId: string;
  node: string;
  /** The saver of the outermost graph: undefined when the run cannot pause. */
  checkpointer: CheckpointSaver | undefined;
  /** Resume values known for this run, by interrupt id (shared with nested subgraphs). */
  resumeValues: ReadonlyMap<string, unknown>;
  /** How many `interrupt()` calls this task has made so far. */
  interruptIndex: number;
  /** How many subgraph invocations this task has made so far (names their namespaces). */
  subgraphCalls: number;
  /** Custom stream chunks (`config.writer`). */
  writer: ((chunk: unknown) => void) | undefined;
  signal: AbortSignal | undefined;
  /** The run's `config.context` and `config.tags`: subgraphs called from the task inherit them. */
  runContext: unknown;
  tags: readonly string[];
  /** Which attempt of the task this is (its retry policy's): 1 on a first run or a resume. */
  attempt: number;
}

export const taskContext = new AsyncLocalStorage<TaskContext>();

export function currentTask(): TaskContext | undefined {
  return taskContext.getStore();
}
