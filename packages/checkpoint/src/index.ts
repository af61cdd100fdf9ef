export * from "./cache/index.ts";
export {
  CheckpointConflictError,
  type CheckpointErrorCode,
  isCheckpointConflict,
  isLayoverError,
  isOwnLayoverError,
  LayoverError,
  NotSerializableError,
} from "./errors.ts";
export { newCheckpointId } from "./ids.ts";
export { assertJsonSerialisable } from "./json-check.ts";
export { hasLoneSurrogate, jsonbIssue, jsonbProblem, type UnstorableText, unstorableText } from "./jsonb.ts";
export { MemorySaver } from "./memory-saver.ts";
export { meantHint, unknownKeys, unknownKeysProblem } from "./option-keys.ts";
export { jsonSerializer, reviveLangChain, type Serializer } from "./serializer.ts";
export * from "./store/index.ts";
export { wellFormed } from "./text.ts";
export type {
  Checkpoint,
  CheckpointKey,
  CheckpointMetadata,
  CheckpointRef,
  CheckpointSaver,
  CheckpointSource,
  CheckpointTuple,
  ListAppend,
  ListCheckpointsOptions,
  PendingSend,
  PendingWrite,
  PutCheckpointArgs,
  PutWritesArgs,
  TimeoutPolicy,
} from "./types.ts";
