// Semantic search as vitest tests, for every store that takes an index (memory, Postgres): what
// LangGraph's stores do with `index: { dims, embeddings, fields }` — documents embedded by field,
// a query ranking the items under a prefix by their closest text — and what Layover adds: a new
// value replaces what the old one embedded, and embeddings that fail change nothing.
import { randomUUID } from "node:crypto";
import { setTimeout as sleep } from "node:timers/promises";
import { expect, it } from "vitest";
import type { BaseStore } from "../store/base-store.ts";
import type { Embeddings, IndexConfig } from "../store/store-index.ts";
import type { SearchItem } from "../store/types.ts";

/** Builds a store with the index a test asks for (and how to clean up after it). */
export type IndexedStoreFactory = (
  index: IndexConfig,
) => Promise<{ store: BaseStore; cleanup?: () => Promise<void> }>;

const WORDS = ["pizza", "pasta", "sushi", "fish", "rice", "tea", "coffee", "cake"] as const;

/** Counts of WORDS in a text: a stand-in model whose similarities a test can work out by hand. */
export function wordCounts(text: string): number[] {
  const words = text.toLowerCase().match(/[a-z]+/g) ?? [];
  return WORDS.map((word) => words.filter((w) => w === word).length);
}

/** Embeddings by word counts, recording what they were asked to embed. */
export class WordEmbeddings implements Embeddings {
  readonly documents: string[][] = [];
  readonly queries: string[] = [];
  private readonly answer: (text: string) => unknown;
  constructor(answer: (text: string) => unknown = wordCounts) {
    this.answer = answer;
  }
  async embedDocuments(texts: string[]): Promise<number[][]> {
    this.documents.push([...texts]);
    return texts.map((text) => this.answer(text) as number[]);
  }
  async embedQuery(text: string): Promise<number[]> {
    this.queries.push(text);
    return this.answer(text) as number[];
  }
}

/** The cosine similarity of two texts' word counts, worked out apart from the stores' code. */
function similarity(a: string, b: string): number {
  const [x, y] = [wordCounts(a), wordCounts(b)];
  const dot = x.reduce((sum, n, i) => sum + n * (y[i] as number), 0);
  const length = (v: number[]) => Math.hypot(...v);
  return dot / (length(x) * length(y));
}

/** Keys and scores of a search's items, in order, scores to 5 places. */
async function ranking(store: BaseStore, prefix: string[], options: Parameters<BaseStore["search"]>[1]) {
  const items = await store.search(prefix, options);
  return items.map((item) => [
    item.key,
    item.score === undefined ? undefined : Number(item.score.toFixed(5)),
  ]);
}

const rounded = (n: number) => Number(n.toFixed(5));

/**
 * Registers the semantic search contract. Each test builds its store with `factory` (given the
 * index it needs), works under a root label no other test uses, and cleans up.
 */
export function describeSemanticSearch(factory: IndexedStoreFactory): void {
  const withStore = async (
    index: Partial<IndexConfig>,
    test: (
      store: BaseStore,
      ns: (...labels: string[]) => string[],
      embeddings: WordEmbeddings,
    ) => Promise<void>,
  ) => {
    const embeddings = (index.embeddings as WordEmbeddings | undefined) ?? new WordEmbeddings();
    const handle = await factory({ dims: WORDS.length, ...index, embeddings });
    const root = `semantic-${randomUUID()}`;
    try {
      await test(handle.store, (...labels) => [root, ...labels], embeddings);
    } finally {
      await handle.cleanup?.();
    }
  };
  const putApart = async (store: BaseStore, items: [string[], string, Record<string, unknown>][]) => {
    for (const [namespace, key, value] of items) {
      await store.put(namespace, key, value);
      await sleep(3);
    }
  };

  it("ranks the items under a prefix by similarity to the query, closest first, with their scores", () =>
    withStore({ fields: ["text"] }, async (store, ns) => {
      await putApart(store, [
        [ns("food"), "italian", { text: "pizza pasta pizza" }],
        [ns("food"), "japanese", { text: "sushi fish rice" }],
        [ns("food", "drinks"), "cafe", { text: "coffee cake tea" }],
        [ns("other"), "fish", { text: "fish fish" }],
      ]);
      const query = "fish and sushi";
      expect(await ranking(store, ns("food"), { query })).toEqual([
        ["japanese", rounded(similarity("sushi fish rice", query))],
        // Equal scores (none in common) keep the search order: most recently updated first.
        ["cafe", 0],
        ["italian", 0],
      ]);
      expect(await ranking(store, ns("food"), { query: "pizza", limit: 1 })).toEqual([
        ["italian", rounded(similarity("pizza pasta pizza", "pizza"))],
      ]);
    }));

  it("embeds each field path on its own; an item scores by its closest text", () =>
    withStore({ fields: ["title", "chapters[*].text"] }, async (store, ns, embeddings) => {
      await store.put(ns("books"), "menu", {
        title: "cake",
        chapters: [{ text: "pizza" }, { text: "sushi rice" }],
        notes: "fish fish fish",
      });
      expect(embeddings.documents).toEqual([["cake", "pizza", "sushi rice"]]);
      expect(await ranking(store, ns("books"), { query: "rice" })).toEqual([
        ["menu", rounded(similarity("sushi rice", "rice"))],
      ]);
      // notes were not embedded: nothing in the book is close to fish.
      expect(await ranking(store, ns("books"), { query: "fish" })).toEqual([["menu", 0]]);
    }));

  it("embeds the whole document by default ('$')", () =>
    withStore({}, async (store, ns, embeddings) => {
      await store.put(ns("docs"), "d", { dish: "sushi", side: { drink: "tea" } });
      expect(embeddings.documents).toEqual([
        [JSON.stringify({ dish: "sushi", side: { drink: "tea" } }, null, 2)],
      ]);
      expect(await ranking(store, ns("docs"), { query: "tea sushi" })).toEqual([["d", 1]]);
    }));

  it("a put's own index replaces the fields; index false embeds nothing: found after the scored, without a score", () =>
    withStore({ fields: ["text"] }, async (store, ns, embeddings) => {
      await store.put(ns("m"), "own", { text: "pizza", tag: "sushi" }, ["tag"]);
      await store.put(ns("m"), "none", { text: "sushi" }, false);
      await store.put(ns("m"), "default", { text: "sushi fish" });
      expect(embeddings.documents).toEqual([["sushi"], ["sushi fish"]]);
      expect(await ranking(store, ns("m"), { query: "sushi" })).toEqual([
        ["own", 1],
        ["default", rounded(similarity("sushi fish", "sushi"))],
        ["none", undefined],
      ]);
    }));

  it("a new value replaces what the old one embedded; a deleted item is gone from searches", () =>
    withStore({ fields: ["text"] }, async (store, ns) => {
      await store.put(ns("m"), "k", { text: "pizza" });
      await store.put(ns("m"), "k", { text: "sushi" });
      expect(await ranking(store, ns("m"), { query: "pizza" })).toEqual([["k", 0]]);
      await store.put(ns("m"), "k", { text: "pizza" }, false);
      expect(await ranking(store, ns("m"), { query: "pizza" })).toEqual([["k", undefined]]);
      await store.put(ns("m"), "k", { other: "no text field" });
      expect(await ranking(store, ns("m"), { query: "pizza" })).toEqual([["k", undefined]]);
      await store.put(ns("m"), "k", { text: "pizza" });
      await store.delete(ns("m"), "k");
      expect(await ranking(store, ns("m"), { query: "pizza" })).toEqual([]);
    }));

  it("takes a field path given twice (in the index's fields or a put's index) as given once, as LangGraph's does", () =>
    withStore({ fields: ["text", "text"] }, async (store, ns) => {
      await store.put(ns("m"), "fields", { text: "pizza" });
      await store.put(ns("m"), "own", { text: "sushi", tag: "pizza pasta" }, ["tag", "text", "tag"]);
      expect(await ranking(store, ns("m"), { query: "pizza" })).toEqual([
        ["fields", 1],
        ["own", rounded(similarity("pizza pasta", "pizza"))],
      ]);
    }));

  it("embeds one vector per name where two field paths name the same one (notes[*] and notes[*].0)", () =>
    withStore({ fields: ["notes[*]", "notes[*].0"] }, async (store, ns) => {
      // notes[*]'s first text is notes[*].0, which the second path names too: the Postgres store
      // failed on a duplicate key where the store in memory kept both.
      await store.put(ns("d"), "doc", { notes: [{ "0": "pizza" }, "sushi"] });
      expect(await ranking(store, ns("d"), { query: "sushi" })).toEqual([["doc", 1]]);
    }));

  it("refuses a put whose place and a field's name together exceed what an index entry holds, writing nothing", () => {
    const field = "a_somewhat_long_field_name".repeat(12);
    return withStore({ fields: [field] }, async (store, ns) => {
      // The place alone fits (the size check of every put); with the field's name beside it, the
      // vectors' index entry would not: Postgres refused it with a raw "index row size" error.
      const key = "k".repeat(2_560 - ns().reduce((n, label) => n + label.length + 8, 0) - 8);
      const put = store.put(ns(), key, { [field]: "pizza" });
      await expect(put).rejects.toMatchObject({ code: "INVALID_STORE_OPERATION" });
      await expect(put).rejects.toThrow(/field/);
      expect(await store.get(ns(), key)).toBeNull();
      await store.put(ns(), key, { [field]: "pizza" }, false); // not embedded: it fits
    });
  });

  it("filters before ranking, then pages the ranking; without a query, the search order and no score", () =>
    withStore({ fields: ["text"] }, async (store, ns) => {
      await putApart(store, [
        [ns("m"), "a", { text: "tea", kind: "drink" }],
        [ns("m"), "b", { text: "tea tea cake", kind: "drink" }],
        [ns("m"), "c", { text: "tea", kind: "food" }],
        [ns("m"), "d", { text: "cake", kind: "drink" }],
      ]);
      const filter = { kind: "drink" };
      const query = "tea";
      expect(await ranking(store, ns("m"), { query, filter })).toEqual([
        ["a", 1],
        ["b", rounded(similarity("tea tea cake", "tea"))],
        ["d", 0],
      ]);
      expect(await ranking(store, ns("m"), { query, filter, offset: 1, limit: 1 })).toEqual([
        ["b", rounded(similarity("tea tea cake", "tea"))],
      ]);
      expect(await ranking(store, ns("m"), { filter })).toEqual([
        ["d", undefined],
        ["b", undefined],
        ["a", undefined],
      ]);
    }));

  it("embeds a batch's distinct texts in one call and each distinct query once", () =>
    withStore({ fields: ["text"] }, async (store, ns, embeddings) => {
      await store.batch([
        { namespace: ns("m"), key: "a", value: { text: "pizza" } },
        { namespace: ns("m"), key: "b", value: { text: "pizza" } },
        { namespace: ns("m"), key: "c", value: { text: "sushi" } },
        { namespacePrefix: ns("m"), query: "pizza", limit: 10, offset: 0 },
        { namespacePrefix: ns("m"), query: "pizza", limit: 1, offset: 0 },
      ]);
      expect(embeddings.documents).toEqual([["pizza", "sushi"]]);
      expect(embeddings.queries).toEqual(["pizza"]);
    }));

  it("runs a batch in order: a search sees the puts before it, with their vectors", () =>
    withStore({ fields: ["text"] }, async (store, ns) => {
      const [found] = await store.batch([
        { namespacePrefix: ns("m"), query: "sushi", limit: 10, offset: 0 },
        { namespace: ns("m"), key: "a", value: { text: "sushi" } },
      ]);
      expect(found).toEqual([]);
      const [, after] = await store.batch([
        { namespace: ns("m"), key: "b", value: { text: "sushi rice" } },
        { namespacePrefix: ns("m"), query: "sushi", limit: 10, offset: 0 },
      ]);
      expect((after as unknown as SearchItem[]).map((item) => item.key)).toEqual(["a", "b"]);
    }));

  it("embeddings that fail, or give other than dims numbers, change nothing", async () => {
    const failing = new WordEmbeddings(() => {
      throw new Error("embedding service down");
    });
    await withStore({ fields: ["text"], embeddings: failing }, async (store, ns) => {
      await expect(store.put(ns("m"), "k", { text: "pizza" })).rejects.toThrow("embedding service down");
      await expect(store.put(ns("m"), "k", { other: 1 })).resolves.toBeUndefined(); // nothing to embed
      expect((await store.search(ns("m"))).map((item) => item.key)).toEqual(["k"]);
    });
    for (const answer of [[1, 2], [Number.NaN, 0, 0, 0, 0, 0, 0, 0], "text"]) {
      await withStore(
        { fields: ["text"], embeddings: new WordEmbeddings(() => answer) },
        async (store, ns) => {
          const batch = store.batch([
            { namespace: ns("m"), key: "ok", value: { other: 1 } },
            { namespace: ns("m"), key: "k", value: { text: "pizza" } },
          ]);
          await expect(batch).rejects.toMatchObject({ code: "INVALID_STORE_OPERATION" });
          expect(await store.search(ns("m"))).toEqual([]);
          await expect(store.search(ns("m"), { query: "pizza" })).rejects.toMatchObject({
            code: "INVALID_STORE_OPERATION",
          });
        },
      );
    }
  });

  it("refuses an index it could not embed with, and a put index that is not field paths", async () => {
    const embeddings = new WordEmbeddings();
    for (const index of [
      { dims: 0, embeddings },
      { dims: 1.5, embeddings },
      { dims: 8, embeddings: { embedQuery: async () => [] } },
      { dims: 8, embeddings, fields: "text" },
      { dims: 8, embeddings, fields: [""] },
    ]) {
      await expect(factory(index as IndexConfig)).rejects.toMatchObject({ code: "INVALID_STORE_OPERATION" });
    }
    await withStore({}, async (store, ns) => {
      await expect(store.put(ns("m"), "k", { a: 1 }, [1] as never)).rejects.toMatchObject({
        code: "INVALID_STORE_OPERATION",
      });
      await expect(store.search(ns("m"), { query: 3 as never })).rejects.toMatchObject({
        code: "INVALID_STORE_OPERATION",
      });
      expect(await store.search(ns("m"))).toEqual([]);
    });
  });
}
