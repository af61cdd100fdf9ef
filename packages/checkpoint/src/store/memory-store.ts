// The store in memory, for tests and single-process use: LangGraph's InMemoryStore, with the
// rules Layover's Postgres store has (JSON values, kept as copies; the same search order).
import { BaseStore } from "./base-store.ts";
import { compareNamespaces, hasPrefix, matchesFilter, meetsCondition, searchOrder } from "./match.ts";
import type {
  GetOperation,
  Item,
  ListNamespacesOperation,
  Operation,
  OperationResults,
  PutOperation,
  SearchItem,
  SearchOperation,
} from "./types.ts";
import { checkOperations, InvalidStoreOperationError } from "./validate.ts";

/** A stored item's place: namespace labels and key, which contain no NUL. */
const placeOf = (namespace: readonly string[], key: string) => [...namespace, key].join("\u0000");

/** An item as callers get it: theirs to change without changing the store. */
const copyOf = (item: Item): Item => structuredClone(item);

/**
 * A value (or a filter) as Postgres's jsonb holds it: its JSON — a LangChain message in its
 * serialized form, -0 as 0, no keys whose value is undefined — so that the store in memory gives
 * back what PostgresStore does. (jsonb also orders an object's keys, shortest first; this keeps
 * them as put.)
 */
const asJson = <T>(value: T): T => JSON.parse(JSON.stringify(value));

export class InMemoryStore extends BaseStore {
  private readonly items = new Map<string, Item>();

  constructor(options?: { index?: unknown }) {
    super();
    if (options?.index !== undefined) {
      throw new InvalidStoreOperationError(
        "A store with an index (semantic search over embeddings) is not supported: Layover's stores embed nothing. Search by namespace and filter instead.",
      );
    }
  }

  async batch<Op extends Operation[]>(operations: Op): Promise<OperationResults<Op>> {
    checkOperations(operations);
    const results = operations.map((op) => {
      if ("namespacePrefix" in op) return this.searchItems(op);
      if ("value" in op) return this.putItem(op);
      if ("namespace" in op) return this.getItem(op);
      return this.namespaces(op);
    });
    return results as OperationResults<Op>;
  }

  private getItem({ namespace, key }: GetOperation): Item | null {
    const item = this.items.get(placeOf(namespace, key));
    return item === undefined ? null : copyOf(item);
  }

  private putItem({ namespace, key, value }: PutOperation): void {
    const place = placeOf(namespace, key);
    if (value === null) {
      this.items.delete(place);
      return;
    }
    const now = new Date();
    const createdAt = this.items.get(place)?.createdAt ?? now;
    this.items.set(place, {
      namespace: [...namespace],
      key,
      value: asJson(value),
      createdAt,
      updatedAt: now,
    });
  }

  private searchItems({ namespacePrefix, filter, limit = 10, offset = 0 }: SearchOperation): SearchItem[] {
    const stored = filter === undefined ? undefined : asJson(filter);
    return [...this.items.values()]
      .filter((item) => hasPrefix(item.namespace, namespacePrefix) && matchesFilter(item.value, stored))
      .sort(searchOrder)
      .slice(offset, offset + limit)
      .map(copyOf);
  }

  private namespaces({ matchConditions = [], maxDepth, limit, offset }: ListNamespacesOperation): string[][] {
    const found = new Map<string, string[]>();
    for (const { namespace } of this.items.values()) {
      if (!matchConditions.every((condition) => meetsCondition(namespace, condition))) continue;
      const cut = maxDepth === undefined ? namespace : namespace.slice(0, maxDepth);
      found.set(cut.join("\u0000"), cut);
    }
    return [...found.values()].sort(compareNamespaces).slice(offset, offset + limit);
  }
}
