// The store in memory, for tests and single-process use: LangGraph's InMemoryStore, with the
// rules Layover's Postgres store has (JSON values, kept as copies; the same search order, and
// with an index the same ranking by similarity).
import { BaseStore } from "./base-store.ts";
import { compareNamespaces, hasPrefix, matchesFilter, meetsCondition, searchOrder } from "./match.ts";
import {
  checkIndexConfig,
  cosine,
  embedBatch,
  type FieldVector,
  type IndexConfig,
  indexConfigOf,
  norm,
  type StoreIndex,
} from "./store-index.ts";
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
import { checkOperations } from "./validate.ts";

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

/**
 * Ranks a search's items by the closest of their vectors to `query`, then in search order; items
 * with none after, unscored.
 */
function ranked(items: Item[], vectorsOf: (item: Item) => FieldVector[] | undefined, query: number[]) {
  const length = norm(query);
  const scored = items.map((item) => {
    let score: number | undefined;
    for (const vector of vectorsOf(item) ?? []) score = Math.max(score ?? -1, cosine(query, length, vector));
    return { item, score };
  });
  const unscored = Number.NEGATIVE_INFINITY;
  return scored.sort((a, b) => (b.score ?? unscored) - (a.score ?? unscored) || searchOrder(a.item, b.item));
}

/**
 * The store in memory. With `index` ({ dims, embeddings, fields }) it embeds what it is given and
 * `search(prefix, { query })` ranks by similarity, as LangGraph's InMemoryStore does.
 */
export class InMemoryStore extends BaseStore {
  private readonly items = new Map<string, Item>();
  private readonly vectors = new Map<string, FieldVector[]>();
  private readonly index: StoreIndex | undefined;

  constructor(options?: { index?: IndexConfig }) {
    super();
    this.index = options?.index === undefined ? undefined : checkIndexConfig(options.index, "InMemoryStore");
  }

  /** The index the store embeds with, as given (LangGraph's `indexConfig`). */
  get indexConfig(): IndexConfig | undefined {
    return indexConfigOf(this.index);
  }

  async batch<Op extends Operation[]>(operations: Op): Promise<OperationResults<Op>> {
    checkOperations(operations, this.index !== undefined);
    const embedded = this.index === undefined ? undefined : await embedBatch(this.index, operations);
    const results = operations.map((op, i) => {
      if ("namespacePrefix" in op)
        return this.searchItems(op, op.query ? embedded?.queries.get(op.query) : undefined);
      if ("value" in op) return this.putItem(op, embedded?.puts.get(i));
      if ("namespace" in op) return this.getItem(op);
      return this.namespaces(op);
    });
    return results as OperationResults<Op>;
  }

  private getItem({ namespace, key }: GetOperation): Item | null {
    const item = this.items.get(placeOf(namespace, key));
    return item === undefined ? null : copyOf(item);
  }

  private putItem({ namespace, key, value }: PutOperation, vectors: FieldVector[] | undefined): void {
    const place = placeOf(namespace, key);
    this.vectors.delete(place);
    if (value === null) {
      this.items.delete(place);
      return;
    }
    if (vectors !== undefined && vectors.length > 0) this.vectors.set(place, vectors);
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

  private searchItems(op: SearchOperation, query: number[] | undefined): SearchItem[] {
    const { namespacePrefix, filter, limit = 10, offset = 0 } = op;
    const stored = filter === undefined ? undefined : asJson(filter);
    const found = [...this.items.values()].filter(
      (item) => hasPrefix(item.namespace, namespacePrefix) && matchesFilter(item.value, stored),
    );
    if (query === undefined)
      return found
        .sort(searchOrder)
        .slice(offset, offset + limit)
        .map(copyOf);
    return ranked(found, (item) => this.vectors.get(placeOf(item.namespace, item.key)), query)
      .slice(offset, offset + limit)
      .map(({ item, score }) => ({ ...copyOf(item), score }));
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
