import { randomUUID } from "node:crypto";
import { type CheckpointSaver, MemorySaver } from "@layover/checkpoint";
import { currentTask } from "../context.ts";
import { MissingThreadIdError } from "../errors.ts";
import type { StepEnv } from "../step.ts";
import type { Emitter } from "../stream.ts";
import type { GraphSpec } from "./spec.ts";

export interface RunnableConfig {
  configurable?: {
    thread_id?: string;
    /** Replay or fork from this checkpoint instead of the head. */
    checkpoint_id?: string;
    checkpoint_ns?: string;
    [key: string]: unknown;
  };
  /** Most supersteps one call may run. @defaultValue 25 */
  recursionLimit?: number;
  /** Abort the run: no further superstep starts, and nodes see the signal. */
  signal?: AbortSignal;
  /**
   * Stamped on every checkpoint the call writes (beside `source`, `step`, `writes`, which it
   * cannot override); `getStateHistory` filters on it. The runtime records its run id here.
   */
  metadata?: Record<string, unknown>;
}

export interface GraphRuntimeOptions {
  spec: GraphSpec;
  checkpointer: CheckpointSaver | false | undefined;
  interruptBefore: ReadonlySet<string> | "*";
  interruptAfter: ReadonlySet<string> | "*";
}

const NONE: ReadonlySet<string> = new Set();

/**
 * Where and how a call runs. Inside a running node the graph is a subgraph: it shares the
 * parent's thread and saver, in its own namespace named after the parent task.
 */
export function runEnvironment(
  graph: GraphRuntimeOptions,
  config: RunnableConfig | undefined,
  emit: Emitter | undefined,
  asSubgraph = true,
): { env: StepEnv; subgraph: boolean } {
  const parent = asSubgraph ? currentTask() : undefined;
  if (parent !== undefined) {
    const call = parent.subgraphCalls;
    parent.subgraphCalls += 1;
    const own = `${parent.node}:${parent.taskId}${call > 0 ? `:${call}` : ""}`;
    const saver = graph.checkpointer === false ? undefined : (graph.checkpointer ?? parent.checkpointer);
    const env: StepEnv = {
      spec: graph.spec,
      saver: saver ?? new MemorySaver(),
      key: { threadId: parent.threadId, ns: parent.ns === "" ? own : `${parent.ns}|${own}` },
      durable: saver !== undefined,
      configurable: { ...config?.configurable, thread_id: parent.threadId },
      signal: config?.signal ?? parent.signal,
      interruptBefore: NONE,
      interruptAfter: NONE,
      inheritedResume: parent.resumeValues,
      emit,
      metadata: config?.metadata,
    };
    return { env, subgraph: true };
  }
  const saver = graph.checkpointer === false ? undefined : graph.checkpointer;
  const threadId = config?.configurable?.thread_id;
  if (saver !== undefined && (typeof threadId !== "string" || threadId === ""))
    throw new MissingThreadIdError();
  const env: StepEnv = {
    spec: graph.spec,
    saver: saver ?? new MemorySaver(),
    key: { threadId: threadId ?? randomUUID(), ns: config?.configurable?.checkpoint_ns ?? "" },
    durable: saver !== undefined,
    configurable: { ...config?.configurable },
    signal: config?.signal,
    interruptBefore: graph.interruptBefore,
    interruptAfter: graph.interruptAfter,
    inheritedResume: undefined,
    emit,
    metadata: config?.metadata,
  };
  return { env, subgraph: false };
}
