// What every store refuses before it reads or writes anything, the same in memory and in
// Postgres: a namespace LangGraph's stores would refuse, a value Postgres's jsonb cannot hold,
// a filter or page it could not answer as documented.
import { LayoverError } from "../errors.ts";
import { jsonbIssue, jsonbProblem, unstorableText } from "../jsonb.ts";
import type { ListNamespacesOperation, Operation, PutOperation, SearchOperation } from "./types.ts";

/** A namespace (or a label in one) a store cannot use. LangGraph's class name. */
export class InvalidNamespaceError extends LayoverError<"INVALID_NAMESPACE"> {
  /** `redactedMessage`: without the labels (a user's id or email), for logs. */
  constructor(message: string, redactedMessage?: string) {
    super("INVALID_NAMESPACE", message, { redactedMessage });
  }
}

/** A value, filter, page or query a store cannot take as given. */
export class InvalidStoreOperationError extends LayoverError<"INVALID_STORE_OPERATION"> {
  constructor(message: string, redactedMessage?: string) {
    super("INVALID_STORE_OPERATION", message, { redactedMessage });
  }
}

interface NamespaceRules {
  allowEmpty?: boolean;
  allowReservedRoot?: boolean;
}

/** Refuses a namespace as LangGraph's `validateNamespace` does (labels: non-empty strings without ".", ":" or NUL). */
export function validateNamespace(
  namespace: unknown,
  rules: NamespaceRules = {},
): asserts namespace is string[] {
  if (!Array.isArray(namespace)) {
    throw new InvalidNamespaceError(
      `A namespace is a list of labels, such as ["users", "u1"]; got ${typeof namespace}.`,
    );
  }
  if (namespace.length === 0) {
    if (rules.allowEmpty) return;
    throw new InvalidNamespaceError("Namespace cannot be empty.");
  }
  for (const label of namespace) {
    if (typeof label !== "string") {
      throw new InvalidNamespaceError(
        `Invalid namespace label '${String(label)}' found in ${namespace}. Namespace labels must be strings, but got ${typeof label}.`,
        `Invalid namespace label: namespace labels must be strings, but got ${typeof label}.`,
      );
    }
    if (label === "")
      throw new InvalidNamespaceError(
        `Namespace labels cannot be empty strings. Got ${label} in ${namespace}`,
        "Namespace labels cannot be empty strings.",
      );
    if (label.includes(".")) {
      throw new InvalidNamespaceError(
        `Invalid namespace label '${label}' found in ${namespace}. Namespace labels cannot contain periods ('.').`,
        "Invalid namespace label: namespace labels cannot contain periods ('.').",
      );
    }
    if (label.includes(":")) {
      throw new InvalidNamespaceError(
        `Invalid namespace label '${label}'. Namespace labels cannot contain colons (':').`,
        "Invalid namespace label: namespace labels cannot contain colons (':').",
      );
    }
    if (label.includes("\u0000"))
      throw new InvalidNamespaceError("Namespace labels cannot contain NUL bytes.");
    if (unstorableText(label) !== undefined) {
      throw new InvalidNamespaceError(
        `Invalid namespace label '${label}': it holds half a surrogate pair (text cut through an emoji?), which Postgres cannot store.`,
        "Invalid namespace label: it holds half a surrogate pair (text cut through an emoji?), which Postgres cannot store.",
      );
    }
  }
  if (namespace[0] === "langgraph" && !rules.allowReservedRoot) {
    throw new InvalidNamespaceError(
      `Root label for namespace cannot be "langgraph". Got: ${namespace}`,
      'Root label for namespace cannot be "langgraph".',
    );
  }
}

/** Refuses a key (of an item, or a filter's) that Postgres text cannot hold: NUL, half a surrogate pair. */
function checkKeyText(what: string, key: string): void {
  const found = unstorableText(key);
  if (found === undefined) return;
  const holds = found.holds === "nul" ? "a NUL character (\\u0000)" : "half a surrogate pair";
  throw new InvalidStoreOperationError(
    `${what} ${JSON.stringify(key)} holds ${holds}, which Postgres cannot store.`,
    `${what} holds ${holds}, which Postgres cannot store.`,
  );
}

/**
 * How much of Postgres's index entry (at most 2,704 bytes) an item's place may take: each label
 * and the key count their UTF-8 bytes and 8 more (the most a varlena header and alignment add),
 * leaving room for the entry's and the array's headers. Postgres compresses an entry only when
 * it can, so a place is refused by its size as given, in every store.
 */
const PLACE_BUDGET = 2_560;

function placeSize(namespace: readonly string[], key: string): number {
  return [...namespace, key].reduce((sum, text) => sum + Buffer.byteLength(text, "utf8") + 8, 0);
}

/** Refuses a put whose namespace and key Postgres's index (one entry per item) could not hold. */
function checkPlaceSize(namespace: readonly string[], key: string): void {
  const size = placeSize(namespace, key);
  if (size <= PLACE_BUDGET) return;
  throw new InvalidStoreOperationError(
    `A store item's namespace and key are too long together: ${size} bytes, counting each label and the key as its UTF-8 length plus 8; at most ${PLACE_BUDGET} fit Postgres's index. Keep namespaces to a few short labels (ids, not documents) and put long text in the value.`,
  );
}

/**
 * Refuses a put whose namespace, key and an embedded field's name Postgres's index of vectors
 * (one entry per item and field) could not hold: the place alone may fit where a long field path
 * beside it does not.
 */
export function checkVectorPlaceSize(namespace: readonly string[], key: string, field: string): void {
  const size = placeSize([...namespace, key], field);
  if (size <= PLACE_BUDGET) return;
  throw new InvalidStoreOperationError(
    `A store item's namespace, key and embedded field ${JSON.stringify(field.slice(0, 40))}… are too long together: ${size} bytes, counted as for a place; at most ${PLACE_BUDGET} fit Postgres's index of vectors. Shorten the field path or the place, or put the item with index: false. Nothing was written.`,
  );
}

const OPERATORS = new Set(["$eq", "$ne", "$gt", "$gte", "$lt", "$lte", "$in", "$nin"]);

/** Whether a filter's value for a key is operators (`{ $gt: 3 }`) rather than a value to equal. */
export function isOperatorClause(clause: unknown): clause is Record<string, unknown> {
  if (typeof clause !== "object" || clause === null || Array.isArray(clause)) return false;
  const keys = Object.keys(clause);
  return keys.length > 0 && keys.some((key) => key.startsWith("$"));
}

function checkOperator(key: string, operator: string, operand: unknown): void {
  if (!OPERATORS.has(operator)) {
    throw new InvalidStoreOperationError(
      `A search filter on "${key}" uses ${operator}, which stores do not have: use $eq, $ne, $gt, $gte, $lt, $lte, $in or $nin.`,
    );
  }
  if (operand === undefined) {
    throw new InvalidStoreOperationError(
      `A search filter's ${operator} on "${key}" is undefined, which JSON drops: give a value (null matches a JSON null).`,
    );
  }
  if ((operator === "$in" || operator === "$nin") && !Array.isArray(operand)) {
    throw new InvalidStoreOperationError(`A search filter's ${operator} on "${key}" takes a list of values.`);
  }
  if (["$gt", "$gte", "$lt", "$lte"].includes(operator)) {
    const ordered = (typeof operand === "number" && Number.isFinite(operand)) || typeof operand === "string";
    if (!ordered) {
      throw new InvalidStoreOperationError(
        `A search filter's ${operator} on "${key}" compares with a number or a string; got ${operand === null ? "null" : typeof operand}.`,
      );
    }
  }
}

function checkFilter(filter: unknown): void {
  if (filter === undefined) return;
  if (typeof filter !== "object" || filter === null || Array.isArray(filter)) {
    throw new InvalidStoreOperationError(
      "A search filter is an object: { key: value } or { key: { $gt: 3 } }.",
    );
  }
  for (const [key, clause] of Object.entries(filter)) {
    checkKeyText("A search filter's key", key);
    if (clause === undefined) {
      throw new InvalidStoreOperationError(
        `The search filter on "${key}" is undefined, which JSON drops: give a value, or leave "${key}" out of the filter.`,
      );
    }
    if (isOperatorClause(clause)) {
      for (const [operator, operand] of Object.entries(clause)) checkOperator(key, operator, operand);
    }
    // The filter's key is a field name; the path inside its clause may be the user's data.
    const problem = jsonbIssue(clause, `The search filter on "${key}"`);
    if (problem !== undefined) throw new InvalidStoreOperationError(problem.message, problem.redactedMessage);
  }
}

function checkCount(what: string, value: unknown, least: number): void {
  if (value === undefined) return;
  if (typeof value !== "number" || !Number.isSafeInteger(value) || value < least) {
    throw new InvalidStoreOperationError(
      `A store's ${what} is a whole number of at least ${least}; got ${String(value)}.`,
    );
  }
}

/** Refuses field paths that are not a list of non-empty strings. */
export function checkFields(fields: unknown, what: string): asserts fields is string[] {
  if (!Array.isArray(fields) || fields.some((field) => typeof field !== "string" || field.trim() === "")) {
    throw new InvalidStoreOperationError(
      `${what} is a list of field paths such as ["text", "chapters[*].content"] ("$": the whole document); got ${JSON.stringify(fields)}.`,
    );
  }
}

function checkQuery(query: unknown, indexed: boolean): void {
  if (query === undefined || query === null || query === "") return;
  if (typeof query !== "string") {
    throw new InvalidStoreOperationError(`A search's query is a text to search for; got ${typeof query}.`);
  }
  if (!indexed) {
    throw new InvalidStoreOperationError(
      "A search with a query (semantic search) needs a store with an index that embeds its documents: new InMemoryStore({ index: { dims, embeddings } }) or new PostgresStore({ …, index }). Without one, search by namespace and filter.",
    );
  }
}

function checkSearch(op: SearchOperation, indexed: boolean): void {
  validateNamespace(op.namespacePrefix, { allowEmpty: true, allowReservedRoot: true });
  checkQuery(op.query, indexed);
  checkFilter(op.filter);
  checkCount("search limit", op.limit, 1);
  checkCount("search offset", op.offset, 0);
}

function checkPut(op: PutOperation): void {
  validateNamespace(op.namespace, op.value === null ? { allowEmpty: true, allowReservedRoot: true } : {});
  if (typeof op.key !== "string" || op.key === "") {
    throw new InvalidStoreOperationError(
      `A store item's key is a non-empty string; got ${JSON.stringify(op.key)}.`,
    );
  }
  checkKeyText("A store item's key", op.key);
  if (op.value === null) return;
  if (op.index !== undefined && op.index !== null && op.index !== false)
    checkFields(op.index, "A put's index");
  checkPlaceSize(op.namespace, op.key);
  if (typeof op.value !== "object" || Array.isArray(op.value)) {
    throw new InvalidStoreOperationError(
      `A store item's value is an object (a document), such as { food: "pizza" }; got ${Array.isArray(op.value) ? "an array" : typeof op.value}. To delete an item, use delete().`,
    );
  }
  const problem = jsonbProblem(op.value, `The value of store item "${op.key}"`);
  if (problem !== undefined)
    throw new InvalidStoreOperationError(problem, "A store item's value cannot be stored as JSON.");
}

function checkList(op: ListNamespacesOperation): void {
  for (const condition of op.matchConditions ?? []) {
    if (condition.matchType !== "prefix" && condition.matchType !== "suffix") {
      throw new InvalidStoreOperationError(
        `Unsupported match type: ${String(condition.matchType)}. Use "prefix" or "suffix".`,
      );
    }
    validateNamespace(condition.path, { allowEmpty: true, allowReservedRoot: true });
  }
  checkCount("maxDepth", op.maxDepth, 1);
  // A batch's operation has no defaults (listNamespaces() gives 100 and 0): the Postgres store
  // failed on a NaN bound, the in-memory one listed nothing.
  if (op.limit === undefined || op.offset === undefined)
    throw new InvalidStoreOperationError(
      "A listNamespaces operation in batch() takes its limit and offset, such as { limit: 100, offset: 0 } (listNamespaces() gives those when left out).",
    );
  checkCount("namespace limit", op.limit, 1);
  checkCount("namespace offset", op.offset, 0);
}

/**
 * Refuses the first operation of `operations` a store cannot take, before any runs; a query only
 * where the store is `indexed` (it embeds documents).
 */
export function checkOperations(operations: readonly Operation[], indexed = false): void {
  for (const op of operations) {
    if ("namespacePrefix" in op) checkSearch(op, indexed);
    else if ("value" in op) checkPut(op);
    else if ("namespace" in op) {
      validateNamespace(op.namespace, { allowEmpty: true, allowReservedRoot: true });
      if (typeof op.key !== "string") throw new InvalidStoreOperationError("A store item's key is a string.");
      checkKeyText("A store item's key", op.key);
    } else checkList(op);
  }
}
