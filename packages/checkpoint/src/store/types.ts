// The long-term store's contract, as LangGraph's BaseStore has it: JSON documents under a key in
// a namespace (a path of labels, such as ["users", userId, "memories"]), shared by every thread
// of a graph — what a user told the agent last week, a user's preferences.

/** A stored document and where it is. */
export interface Item {
  value: Record<string, any>;
  key: string;
  namespace: string[];
  createdAt: Date;
  updatedAt: Date;
}

/**
 * An item a search found; with a query, `score` is the cosine similarity of its closest embedded
 * text to the query (undefined for an item with nothing embedded).
 */
export interface SearchItem extends Item {
  score?: number | undefined;
}

export interface GetOperation {
  namespace: string[];
  key: string;
}

/**
 * Items under a namespace prefix, most recently updated first, that match `filter`: each key of
 * the filter names a top-level key of the value, and gives either the value it must equal (JSON
 * equality) or operators — `$eq`, `$ne`, `$gt`, `$gte`, `$lt`, `$lte` (numbers with numbers,
 * strings with strings), `$in`, `$nin` (a list of values).
 */
export interface SearchOperation {
  namespacePrefix: string[];
  filter?: Record<string, any> | undefined;
  /** @defaultValue 10 */
  limit?: number | undefined;
  /** @defaultValue 0 */
  offset?: number | undefined;
  /**
   * Semantic search (a store with an index): items ranked by how close their embedded texts are
   * to this text, the closest first, then those with nothing embedded. Refused by a store
   * without an index.
   */
  query?: string | undefined;
}

/** Stores `value` under the key, replacing what was there; `value: null` deletes it. */
export interface PutOperation {
  namespace: string[];
  key: string;
  value: Record<string, any> | null;
  /**
   * The field paths to embed for semantic search instead of the index's `fields`; `false` embeds
   * nothing (the item is found by namespace and filter only). Ignored by a store without an index.
   */
  index?: false | string[] | undefined;
}

export type NamespaceMatchType = "prefix" | "suffix";
/** A namespace path in a match condition; `"*"` matches any one label. */
export type NameSpacePath = (string | "*")[];
export interface MatchCondition {
  matchType: NamespaceMatchType;
  path: NameSpacePath;
}

/** The namespaces that hold items, sorted, cut to `maxDepth` labels (and deduplicated). */
export interface ListNamespacesOperation {
  matchConditions?: MatchCondition[] | undefined;
  maxDepth?: number | undefined;
  limit: number;
  offset: number;
}

export type Operation = GetOperation | SearchOperation | PutOperation | ListNamespacesOperation;

export type OperationResults<Tuple extends readonly Operation[]> = {
  [K in keyof Tuple]: Tuple[K] extends PutOperation
    ? undefined
    : Tuple[K] extends SearchOperation
      ? SearchItem[]
      : Tuple[K] extends GetOperation
        ? Item | null
        : Tuple[K] extends ListNamespacesOperation
          ? string[][]
          : never;
};
