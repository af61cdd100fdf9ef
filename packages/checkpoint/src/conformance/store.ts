// The long-term store's contract as vitest tests, for every store (memory, Postgres): what
// LangGraph's BaseStore promises, and what Layover adds — JSON values refused before anything is
// written, operations run in order, one search order, exact namespace prefixes.
import { randomBytes } from "node:crypto";
import { setTimeout as sleep } from "node:timers/promises";
import { describe, expect, it } from "vitest";
import type { BaseStore } from "../store/base-store.ts";
import { perTestHandle } from "./helpers.ts";
import { describeSemanticSearch, type IndexedStoreFactory } from "./semantic-store.ts";

export interface StoreHandle {
  store: BaseStore;
  cleanup?: () => Promise<void>;
}
export type StoreFactory = () => Promise<StoreHandle>;

/** Items written a few milliseconds apart, so their updatedAt order is certain. */
async function putApart(store: BaseStore, items: [string[], string, Record<string, unknown>][]) {
  for (const [namespace, key, value] of items) {
    await store.put(namespace, key, value);
    await sleep(3);
  }
}

/** Refused with `code`, as LangGraph's class `name` where it has one. */
async function expectRefused(call: Promise<unknown>, code: string): Promise<void> {
  await expect(call).rejects.toMatchObject({ code });
}

/**
 * Registers the store contract. Each test gets a store from `factory` and works under a root
 * namespace label no other test uses, so stores backed by one shared database can run it. A
 * store that takes an index (semantic search) gives `indexed`, which builds one with the index a
 * test asks for.
 */
export function runStoreConformance(
  name: string,
  factory: StoreFactory,
  indexed?: IndexedStoreFactory,
): void {
  describe(`Store conformance: ${name}`, () => {
    if (indexed !== undefined) describe("semantic search", () => describeSemanticSearch(indexed));
    const handle = perTestHandle(factory, "store");
    const use = () => {
      const { handle: given, ns } = handle();
      return { store: given.store, ns, root: ns()[0] as string };
    };

    it("puts, gets, replaces and deletes an item; a missing one is null", async () => {
      const { store, ns } = use();
      expect(await store.get(ns("users", "u1"), "prefs")).toBeNull();
      await store.put(ns("users", "u1"), "prefs", {
        food: "pizza",
        tags: ["a", 1, null],
        nested: { ok: true },
      });
      const first = await store.get(ns("users", "u1"), "prefs");
      expect(first).toMatchObject({
        namespace: ns("users", "u1"),
        key: "prefs",
        value: { food: "pizza", tags: ["a", 1, null], nested: { ok: true } },
      });
      expect(first?.createdAt).toBeInstanceOf(Date);
      expect(first?.updatedAt.getTime()).toBe(first?.createdAt.getTime());
      await sleep(5);
      await store.put(ns("users", "u1"), "prefs", { food: "sushi" });
      const second = await store.get(ns("users", "u1"), "prefs");
      expect(second?.value).toEqual({ food: "sushi" });
      expect(second?.createdAt.getTime()).toBe(first?.createdAt.getTime());
      expect(second?.updatedAt.getTime()).toBeGreaterThan(first?.updatedAt.getTime() ?? Infinity);
      await store.delete(ns("users", "u1"), "prefs");
      expect(await store.get(ns("users", "u1"), "prefs")).toBeNull();
      await store.delete(ns("users", "u1"), "prefs");
    });

    it("gives items the caller may change without changing the store", async () => {
      const { store, ns } = use();
      const value = { list: [1] };
      await store.put(ns("m"), "k", value);
      value.list.push(2);
      const list = (await store.get(ns("m"), "k"))?.value.list as number[] | undefined;
      expect(list).toEqual([1]);
      list?.push(3);
      expect((await store.get(ns("m"), "k"))?.value).toEqual({ list: [1] });
    });

    it("keeps a value as its JSON, as Postgres's jsonb does, and filters by that JSON", async () => {
      const { store, ns } = use();
      // A LangChain message is stored as its serialized form (toJSON), as checkpoints store it.
      const message = {
        lc_serializable: true,
        content: "hi",
        toJSON: () => ({ lc: 1, type: "constructor", id: ["HumanMessage"], kwargs: { content: "hi" } }),
      };
      await store.put(ns("j"), "k", { gone: undefined, zero: -0, message } as Record<string, unknown>);
      const value = (await store.get(ns("j"), "k"))?.value;
      expect(value).toEqual({ zero: 0, message: message.toJSON() });
      expect(Object.hasOwn(value ?? {}, "gone")).toBe(false);
      expect(Object.is(value?.zero, 0)).toBe(true);
      const found = async (filter: Record<string, unknown>) =>
        (await store.search(ns("j"), { filter })).length;
      expect(await found({ zero: -0 })).toBe(1);
      expect(await found({ message })).toBe(1);
      expect(await found({ message: { $in: [message] } })).toBe(1);
    });

    it("searches a namespace and those under it, not a label that merely begins the same, most recently updated first", async () => {
      const { store, ns, root } = use();
      await putApart(store, [
        [ns("a"), "1", { n: 1 }],
        [ns("a", "b"), "2", { n: 2 }],
        [ns("ab"), "3", { n: 3 }],
        [ns("a", "b", "c"), "4", { n: 4 }],
      ]);
      await store.put(ns("a"), "1", { n: 10 }); // updated last
      const found = await store.search(ns("a"));
      expect(found.map((item) => item.value.n)).toEqual([10, 4, 2]);
      expect((await store.search(ns("a", "b"))).map((item) => item.key)).toEqual(["4", "2"]);
      expect((await store.search(ns("a"), { limit: 2, offset: 1 })).map((item) => item.key)).toEqual([
        "4",
        "2",
      ]);
      expect((await store.search([root])).map((item) => item.key)).toEqual(["1", "4", "3", "2"]);
    });

    it("pages a search: limit 10 by default, then offset", async () => {
      const { store, ns } = use();
      await store.batch(
        Array.from({ length: 12 }, (_, i) => ({
          namespace: ns("p"),
          key: `k${String(i).padStart(2, "0")}`,
          value: { i },
        })),
      );
      expect(await store.search(ns("p"))).toHaveLength(10);
      const all = await store.search(ns("p"), { limit: 100 });
      expect(all).toHaveLength(12);
      const pages = [
        ...(await store.search(ns("p"), { limit: 5 })),
        ...(await store.search(ns("p"), { limit: 5, offset: 5 })),
        ...(await store.search(ns("p"), { limit: 5, offset: 10 })),
      ];
      expect(pages.map((item) => item.key)).toEqual(all.map((item) => item.key));
    });

    it("pages with any whole limit and offset, Number.MAX_SAFE_INTEGER meaning all or none", async () => {
      const { store, ns } = use();
      await store.batch(["a", "b", "c"].map((key) => ({ namespace: ns("big", key), key, value: {} })));
      const most = Number.MAX_SAFE_INTEGER;
      expect(await store.search(ns("big"), { limit: most })).toHaveLength(3);
      expect(await store.search(ns("big"), { limit: most, offset: most })).toEqual([]);
      expect(await store.search(ns("big"), { limit: 2 ** 31, offset: 2 })).toHaveLength(1);
      expect(await store.listNamespaces({ prefix: ns("big"), limit: most })).toHaveLength(3);
      expect(await store.listNamespaces({ prefix: ns("big"), limit: most, offset: most })).toEqual([]);
      expect(await store.listNamespaces({ prefix: ns("big"), maxDepth: most })).toHaveLength(3);
    });

    it("filters by JSON equality and operators, on top-level keys", async () => {
      const { store, ns } = use();
      await store.batch([
        {
          namespace: ns("f"),
          key: "a",
          value: { kind: "food", score: 5, tags: ["x"], when: "2026-01-02", meta: { v: 1 } },
        },
        {
          namespace: ns("f"),
          key: "b",
          value: { kind: "food", score: 12, tags: ["x", "y"], when: "2026-03-01", flag: null },
        },
        { namespace: ns("f"), key: "c", value: { kind: "trip", score: "12", when: "2025-12-31" } },
      ]);
      const keys = async (filter: Record<string, unknown>) =>
        (await store.search(ns("f"), { filter })).map((item) => item.key).sort();
      expect(await keys({ kind: "food" })).toEqual(["a", "b"]);
      expect(await keys({ score: 12 })).toEqual(["b"]);
      expect(await keys({ score: "12" })).toEqual(["c"]);
      expect(await keys({ tags: ["x"] })).toEqual(["a"]);
      expect(await keys({ meta: { v: 1 } })).toEqual(["a"]);
      expect(await keys({ flag: null })).toEqual(["b"]);
      expect(await keys({ kind: "food", score: { $gt: 5 } })).toEqual(["b"]);
      expect(await keys({ score: { $gte: 5, $lt: 12 } })).toEqual(["a"]);
      expect(await keys({ score: { $lte: 12 } })).toEqual(["a", "b"]);
      expect(await keys({ when: { $gte: "2026-01-01" } })).toEqual(["a", "b"]);
      expect(await keys({ kind: { $ne: "food" } })).toEqual(["c"]);
      expect(await keys({ flag: { $ne: null } })).toEqual(["a", "c"]);
      expect(await keys({ kind: { $eq: "trip" } })).toEqual(["c"]);
      expect(await keys({ score: { $in: [5, "12"] } })).toEqual(["a", "c"]);
      expect(await keys({ score: { $nin: [5, "12"] } })).toEqual(["b"]);
      expect(await keys({ missing: "x" })).toEqual([]);
    });

    it("lists namespaces that hold items: sorted, by prefix and suffix with * for any label, cut to maxDepth", async () => {
      const { store, ns, root } = use();
      await store.batch([
        { namespace: ns("users", "u2", "memories"), key: "k", value: {} },
        { namespace: ns("users", "u1", "memories"), key: "k", value: {} },
        { namespace: ns("users", "u1", "prefs"), key: "k", value: {} },
        { namespace: ns("teams", "t1"), key: "k", value: {} },
        { namespace: ns("gone"), key: "k", value: {} },
      ]);
      await store.delete(ns("gone"), "k");
      expect(await store.listNamespaces({ prefix: [root] })).toEqual([
        ns("teams", "t1"),
        ns("users", "u1", "memories"),
        ns("users", "u1", "prefs"),
        ns("users", "u2", "memories"),
      ]);
      expect(await store.listNamespaces({ prefix: [root, "users", "*", "memories"] })).toEqual([
        ns("users", "u1", "memories"),
        ns("users", "u2", "memories"),
      ]);
      expect(await store.listNamespaces({ prefix: [root], suffix: ["prefs"] })).toEqual([
        ns("users", "u1", "prefs"),
      ]);
      expect(await store.listNamespaces({ prefix: [root], maxDepth: 3 })).toEqual([
        ns("teams", "t1"),
        ns("users", "u1"),
        ns("users", "u2"),
      ]);
      expect(await store.listNamespaces({ prefix: [root], limit: 2, offset: 1 })).toEqual([
        ns("users", "u1", "memories"),
        ns("users", "u1", "prefs"),
      ]);
    });

    it("runs a batch's operations in order", async () => {
      const { store, ns } = use();
      const results: unknown[] = await store.batch([
        { namespace: ns("b"), key: "k", value: { v: 1 } },
        { namespace: ns("b"), key: "k" },
        { namespace: ns("b"), key: "k", value: { v: 2 } },
        { namespacePrefix: ns("b") },
        { namespace: ns("b"), key: "k", value: null },
        { namespace: ns("b"), key: "k" },
      ]);
      expect(results[0]).toBeUndefined();
      expect((results[1] as { value: unknown }).value).toEqual({ v: 1 });
      expect((results[3] as { value: unknown }[]).map((item) => item.value)).toEqual([{ v: 2 }]);
      expect(results[5]).toBeNull();
    });

    it("keeps keys and labels in any script, ordered by code point", async () => {
      const { store, ns, root } = use();
      await store.batch([
        { namespace: ns("ü"), key: "🙂", value: { text: "emoji 🙂, 汉字" } },
        { namespace: ns("z"), key: "k", value: {} },
        { namespace: ns("Z"), key: "k", value: {} },
      ]);
      expect((await store.get(ns("ü"), "🙂"))?.value).toEqual({ text: "emoji 🙂, 汉字" });
      expect(await store.listNamespaces({ prefix: [root] })).toEqual([ns("Z"), ns("z"), ns("ü")]);
    });

    it("refuses bad namespaces, keys, values, filters and pages with a typed error, writing nothing", async () => {
      const { store, ns, root } = use();
      const refusedBatch = store.batch([
        { namespace: ns("ok"), key: "k", value: { fine: true } },
        { namespace: ns("ok"), key: "bad", value: { at: new Date(0) } },
      ]);
      await expectRefused(refusedBatch, "INVALID_STORE_OPERATION");
      expect(await store.get(ns("ok"), "k")).toBeNull();
      await expectRefused(store.put([], "k", {}), "INVALID_NAMESPACE");
      await expectRefused(store.put([root, "a.b"], "k", {}), "INVALID_NAMESPACE");
      await expectRefused(store.put([root, ""], "k", {}), "INVALID_NAMESPACE");
      await expectRefused(store.put(["langgraph", root], "k", {}), "INVALID_NAMESPACE");
      await expectRefused(store.put(ns("x"), "", {}), "INVALID_STORE_OPERATION");
      await expectRefused(store.put(ns("x"), "k", [1] as never), "INVALID_STORE_OPERATION");
      await expectRefused(store.put(ns("x"), "k", "text" as never), "INVALID_STORE_OPERATION");
      await expectRefused(store.put(ns("x"), "k", { note: "a\u0000b" }), "INVALID_STORE_OPERATION");
      await expectRefused(store.put(ns("x"), "k", { n: Number.NaN }), "INVALID_STORE_OPERATION");
      // Text Postgres cannot hold, in a key or a label: NUL, half a surrogate pair.
      await expectRefused(store.put(ns("x"), "a\u0000b", {}), "INVALID_STORE_OPERATION");
      await expectRefused(store.put(ns("x"), "cut \ud83d", {}), "INVALID_STORE_OPERATION");
      await expectRefused(store.get(ns("x"), "a\u0000b"), "INVALID_STORE_OPERATION");
      await expectRefused(store.put(ns("cut \ud83d"), "k", {}), "INVALID_NAMESPACE");
      await expectRefused(store.search(ns("cut \ud83d")), "INVALID_NAMESPACE");
      await expectRefused(store.search(ns("x"), { filter: { "a\u0000": 1 } }), "INVALID_STORE_OPERATION");
      await expectRefused(store.search(ns("x"), { query: "pizza" }), "INVALID_STORE_OPERATION");
      await expectRefused(
        store.search(ns("x"), { filter: { n: { $regex: "a" } } }),
        "INVALID_STORE_OPERATION",
      );
      await expectRefused(store.search(ns("x"), { filter: { n: { $gt: null } } }), "INVALID_STORE_OPERATION");
      await expectRefused(store.search(ns("x"), { filter: { n: { $in: 3 } } }), "INVALID_STORE_OPERATION");
      // An undefined filter value, which JSON would drop (matching every item), is refused.
      await expectRefused(store.search(ns("x"), { filter: { n: undefined } }), "INVALID_STORE_OPERATION");
      await expectRefused(
        store.search(ns("x"), { filter: { n: { $ne: undefined } } }),
        "INVALID_STORE_OPERATION",
      );
      await expectRefused(store.search(ns("x"), { limit: 0 }), "INVALID_STORE_OPERATION");
      await expectRefused(store.search(ns("x"), { offset: -1 }), "INVALID_STORE_OPERATION");
      await expectRefused(store.listNamespaces({ maxDepth: 0 }), "INVALID_STORE_OPERATION");
      // A batch's listNamespaces without its bounds (the Postgres store failed on a NaN, the
      // in-memory one listed nothing).
      await expectRefused(
        store.batch([{ matchConditions: [{ matchType: "prefix", path: [root] }] } as never]),
        "INVALID_STORE_OPERATION",
      );
      // A namespace and key longer together than Postgres's index holds (random: no compression).
      const long = randomBytes(1_500).toString("hex");
      await expectRefused(store.put(ns(long), "k", {}), "INVALID_STORE_OPERATION");
      await expectRefused(store.put(ns("x"), long, {}), "INVALID_STORE_OPERATION");
      await expectRefused(store.put(ns(...long.match(/.{1,3}/g)!), "k", {}), "INVALID_STORE_OPERATION");
      expect(await store.listNamespaces({ prefix: [root] })).toEqual([]);
    });
  });
}
