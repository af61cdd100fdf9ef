export {
  assertJsonSerialisable,
  BaseCache,
  BaseStore,
  CheckpointConflictError,
  type Embeddings,
  type IndexConfig,
  InMemoryCache,
  InMemoryStore,
  InvalidNamespaceError,
  InvalidStoreOperationError,
  type Item,
  isCheckpointConflict,
  isLayoverError,
  LayoverError,
  /** LangGraph.js's base of its errors: every error Layover throws is a LayoverError. */
  LayoverError as BaseLangGraphError,
  MemorySaver,
  NotSerializableError,
  type Operation,
  type SearchItem,
} from "@layover/checkpoint";
export { isParentCommand, ParentCommand } from "./algo/node-writes.ts";
export { tasksOfCheckpoint, unknownPlannedNodes } from "./algo/plan.ts";
export { GraphBubbleUp, isGraphBubbleUp } from "./bubble-up.ts";
export { byInterruptId, Command, type CommandParams, isCommand, Send } from "./command.ts";
export { type Durability, isDurability, requestedDurability } from "./commit.ts";
export { DEFAULT_RECURSION_LIMIT, END, INTERRUPT, isInternalChannel, RESUME, START } from "./constants.ts";
export { getConfig, getCurrentTaskInput, getStore, getWriter, writer } from "./context.ts";
export {
  AmbiguousResumeError,
  CheckpointNotFoundError,
  EmptyCommandError,
  EmptyInputError,
  GraphAbortedError,
  type GraphErrorCode,
  GraphRecursionError,
  InvalidGraphError,
  /** LangGraph.js's name for a graph built wrong: Layover throws InvalidGraphError. */
  InvalidGraphError as GraphValueError,
  InvalidInputError,
  InvalidResumeError,
  InvalidUpdateError,
  isInvalidResume,
  isNodeError,
  isUnknownInterruptError,
  MissingCheckpointerError,
  MissingNodeError,
  MissingThreadIdError,
  NodeError,
  NotInterruptedError,
  OutsideNodeError,
  UnknownInterruptError,
  UnreachableNodeError,
} from "./errors.ts";
export {
  CompiledEntrypoint,
  type EntrypointFinal,
  type EntrypointOptions,
  entrypoint,
  entrypointValue,
  getPreviousState,
} from "./func/entrypoint.ts";
export { type TaskOptions, task } from "./func/task.ts";
export { cacheNamespace } from "./graph/cache-policy.ts";
export { CompiledStateGraph, type InvokeResult, type StreamConfig } from "./graph/compiled-graph.ts";
export type { RunnableConfig } from "./graph/environment.ts";
export type { ErrorHandler, ErrorHandler as NodeErrorHandler } from "./graph/error-handlers.ts";
export type { StreamEventsFilters } from "./graph/event-filters.ts";
export { IterableReadableStream } from "./graph/iterable-stream.ts";
export type {
  CachePolicy,
  CompileOptions,
  LangGraphRunnableConfig,
  NodeConfig,
  RetryPolicy,
} from "./graph/spec.ts";
export {
  type AddNodeOptions,
  type ConditionalEdgeRouter,
  type GraphNode,
  StateGraph,
} from "./graph/state-graph.ts";
export type { HeadInfo, StepOutcome, Stepper } from "./graph/stepper.ts";
export type { StreamEvent, StreamEventsConfig } from "./graph/stream-events.ts";
export { isInterruptIdShaped } from "./ids.ts";
export {
  GraphInterrupt,
  type Interrupt,
  type InterruptOptions,
  interrupt,
  isGraphInterrupt,
  MAX_DURATION_MS,
  NodeInterrupt,
  parseDuration,
  resumeIssues,
} from "./interrupt.ts";
export { isInterrupted } from "./is-interrupted.ts";
export { callbackList } from "./langchain.ts";
export { isNodeTimeoutError, NodeTimeoutError, type TimeoutPolicy } from "./node-timeout.ts";
export { OVERWRITE, Overwrite } from "./overwrite.ts";
export type { Pause, StorePause, WaitingTask } from "./pause.ts";
export { type PushMessageOptions, pushMessage } from "./push-message.ts";
export type { SnapshotTask, StateSnapshot } from "./snapshot.ts";
export { Annotation, type AnnotationField, AnnotationRoot } from "./state/annotation.ts";
export type { StateDefinitionLike, StateGraphArgs } from "./state/definition.ts";
export { type IssueTexts, issueTexts, REDACTED_KEY } from "./state/issues.ts";
export { compiledJsonSchema } from "./state/json-schema.ts";
export {
  addMessages,
  type Message,
  type Messages,
  MessagesAnnotation,
  MessagesValue,
  MessagesZodMeta,
  MessagesZodState,
  messagesStateReducer,
  REMOVE_ALL_MESSAGES,
} from "./state/messages.ts";
export { ReducedValue, StateSchema, UntrackedValue } from "./state/state-schema.ts";
export type { Emitter, StreamMode } from "./stream.ts";
export { isTimeoutRejection, type TimeoutRejection, timeoutRejection } from "./timeout-rejection.ts";
