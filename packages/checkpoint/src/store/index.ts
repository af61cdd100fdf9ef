export { BaseStore, isStore, type ListNamespacesOptions, type SearchOptions } from "./base-store.ts";
export {
  compareNamespaces,
  compareText,
  hasPrefix,
  matchesFilter,
  meetsCondition,
  searchOrder,
} from "./match.ts";
export { InMemoryStore } from "./memory-store.ts";
export {
  type BatchVectors,
  checkIndexConfig,
  cosine,
  type Embeddings,
  embedBatch,
  type FieldVector,
  type IndexConfig,
  indexConfigOf,
  norm,
  type StoreIndex,
} from "./store-index.ts";
export { textsAtPath, tokenizePath } from "./text-paths.ts";
export type {
  GetOperation,
  Item,
  ListNamespacesOperation,
  MatchCondition,
  NameSpacePath,
  NamespaceMatchType,
  Operation,
  OperationResults,
  PutOperation,
  SearchItem,
  SearchOperation,
} from "./types.ts";
export {
  checkOperations,
  InvalidNamespaceError,
  InvalidStoreOperationError,
  isOperatorClause,
  validateNamespace,
} from "./validate.ts";
