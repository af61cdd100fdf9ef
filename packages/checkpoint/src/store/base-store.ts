// The store's methods over its one primitive, batch(), as LangGraph's BaseStore has them: a
// store implements batch (checking the operations with checkOperations first) and gets get,
// put, delete, search and listNamespaces with LangGraph's defaults.
import type {
  Item,
  ListNamespacesOperation,
  MatchCondition,
  Operation,
  OperationResults,
  SearchItem,
} from "./types.ts";

export interface SearchOptions {
  filter?: Record<string, any> | undefined;
  /** @defaultValue 10 */
  limit?: number | undefined;
  /** @defaultValue 0 */
  offset?: number | undefined;
  /** Semantic search, in a store with an index: the closest items to this text first (see SearchOperation). */
  query?: string | undefined;
}

export interface ListNamespacesOptions {
  prefix?: string[] | undefined;
  suffix?: string[] | undefined;
  maxDepth?: number | undefined;
  /** @defaultValue 100 */
  limit?: number | undefined;
  /** @defaultValue 0 */
  offset?: number | undefined;
}

/**
 * Whether `value` is a long-term store: an object with `batch()`, as LangGraph's BaseStore (a
 * store of another copy of this package, or LangGraph's own, is one too).
 */
export function isStore(value: unknown): value is BaseStore {
  return typeof (value as { batch?: unknown } | null | undefined)?.batch === "function";
}

/** Long-term memory shared across a graph's threads: `compile({ store })`, `config.store` in nodes. */
export abstract class BaseStore {
  /** Runs the operations in order; a store refuses the whole batch when one is invalid. */
  abstract batch<Op extends Operation[]>(operations: Op): Promise<OperationResults<Op>>;

  async get(namespace: string[], key: string): Promise<Item | null> {
    return (await this.batch([{ namespace, key }]))[0] ?? null;
  }

  async search(namespacePrefix: string[], options: SearchOptions = {}): Promise<SearchItem[]> {
    const { filter, limit = 10, offset = 0, query } = options;
    return (await this.batch([{ namespacePrefix, filter, limit, offset, query }]))[0] ?? [];
  }

  async put(
    namespace: string[],
    key: string,
    value: Record<string, any>,
    index?: false | string[],
  ): Promise<void> {
    await this.batch([{ namespace, key, value, index }]);
  }

  async delete(namespace: string[], key: string): Promise<void> {
    await this.batch([{ namespace, key, value: null }]);
  }

  async listNamespaces(options: ListNamespacesOptions = {}): Promise<string[][]> {
    const { prefix, suffix, maxDepth, limit = 100, offset = 0 } = options;
    const matchConditions: MatchCondition[] = [];
    if (prefix) matchConditions.push({ matchType: "prefix", path: prefix });
    if (suffix) matchConditions.push({ matchType: "suffix", path: suffix });
    const op: ListNamespacesOperation = {
      matchConditions: matchConditions.length > 0 ? matchConditions : undefined,
      maxDepth,
      limit,
      offset,
    };
    return (await this.batch([op]))[0] ?? [];
  }

  /** Called as LangGraph's stores are, when a graph starts using the store; nothing to do by default. */
  start(): void | Promise<void> {}

  stop(): void | Promise<void> {}
}
