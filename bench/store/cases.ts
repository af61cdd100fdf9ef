import type { Operation } from "@layover/checkpoint";
import { DATA, doc, itemPlace, userId } from "./data.ts";
import type { StoreApi } from "./stores.ts";

/** One case: what one op does, and how many run at once. */
export interface StoreCase {
  name: "put" | "put ×20" | "get" | "search kind" | "search $gt" | "listNamespaces" | "batch";
  describe: string;
  /** Ops in flight at once (lanes, each running its ops back to back). */
  inFlight: number;
  /** A fresh op sequence, the same for both stores: each call starts the next op. */
  ops(store: StoreApi): () => Promise<void>;
}

/**
 * Keys the put cases cycle over, per op in flight: ops that run at once put distinct keys, and
 * after the first batch every put is an update.
 */
const PUT_KEYS = 500;

function expect(ok: boolean, what: string): void {
  if (!ok) throw new Error(`Wrong result: ${what}.`);
}

/** The i-th get's item: users and items visited in a scattered, repeatable order. */
const readPlace = (i: number) => itemPlace(userId(i * 37), (i * 53) % DATA.itemsPerUser);

function putCase(name: "put" | "put ×20", inFlight: number): StoreCase {
  return {
    name,
    inFlight,
    describe: `upsert of a ~${JSON.stringify(doc(0)).length}-byte document, ${inFlight === 1 ? "one at a time" : `${inFlight} at once`}, over ${PUT_KEYS * inFlight} keys`,
    ops: counted(async (store, n) => {
      await store.put(["writes", `in-flight-${inFlight}`], `key-${n % (PUT_KEYS * inFlight)}`, doc(n));
    }),
  };
}

function counted(body: (store: StoreApi, i: number) => Promise<void>): StoreCase["ops"] {
  return (store) => {
    let i = 0;
    return () => body(store, i++);
  };
}

/** Ten operations: 6 reads and 4 puts, interleaved as a node's batch might be. */
function mixedBatch(i: number): Operation[] {
  const user = userId(i * 37);
  const write = (k: number) => ({
    namespace: ["writes", "batch"],
    key: `key-${(i * 4 + k) % PUT_KEYS}`,
    value: doc(i + k),
  });
  return [
    readPlace(i),
    readPlace(i + 1),
    { namespacePrefix: ["users", user], filter: { kind: "food" }, limit: 10, offset: 0 },
    write(0),
    write(1),
    readPlace(i + 2),
    { namespacePrefix: ["users", user], filter: { score: { $gt: 50 } }, limit: 10, offset: 0 },
    write(2),
    { matchConditions: [{ matchType: "prefix", path: ["users", user] }], maxDepth: 3, limit: 100, offset: 0 },
    write(3),
  ];
}

export const cases: readonly StoreCase[] = [
  putCase("put", 1),
  putCase("put ×20", 20),
  {
    name: "get",
    inFlight: 1,
    describe: `get by key, one at a time, of the ${DATA.users * DATA.itemsPerUser} items`,
    ops: counted(async (store, i) => {
      const { namespace, key } = readPlace(i);
      expect((await store.get(namespace, key)) !== null, `get ${key}`);
    }),
  },
  {
    name: "search kind",
    inFlight: 1,
    describe: `search(["users", user], { filter: { kind: "food" } }), limit 10: 25 of the user's ${DATA.itemsPerUser} items match`,
    ops: counted(async (store, i) => {
      const found = await store.search(["users", userId(i * 37)], { filter: { kind: "food" }, limit: 10 });
      expect(found.length === 10 && found.every((item) => item.value.kind === "food"), "search kind");
    }),
  },
  {
    name: "search $gt",
    inFlight: 1,
    describe:
      'search(["users", user], { filter: { score: { $gt: 50 } } }), limit 10: 49 of the user\'s items match',
    ops: counted(async (store, i) => {
      const found = await store.search(["users", userId(i * 37)], {
        filter: { score: { $gt: 50 } },
        limit: 10,
      });
      expect(found.length === 10 && found.every((item) => (item.value.score as number) > 50), "search $gt");
    }),
  },
  {
    name: "listNamespaces",
    inFlight: 1,
    describe: `listNamespaces({ prefix: ["users"], maxDepth: 3 }), limit 100, of ${DATA.users * DATA.labels.length} namespaces 3 deep`,
    ops: counted(async (store) => {
      const found = await store.listNamespaces({ prefix: ["users"], maxDepth: 3, limit: 100 });
      expect(found.length === 100 && found[0]?.join("/") === "users/u000/memories", "listNamespaces");
    }),
  },
  {
    name: "batch",
    inFlight: 1,
    describe:
      "batch of 10: get, get, search kind, put, put, get, search $gt, put, listNamespaces (one user), put",
    ops: counted(async (store, i) => {
      const results = (await store.batch(mixedBatch(i))) as unknown[];
      expect(results.length === 10 && results[0] !== null && (results[8] as unknown[]).length === 2, "batch");
    }),
  },
];
