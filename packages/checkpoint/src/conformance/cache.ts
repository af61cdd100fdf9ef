import { setTimeout as sleep } from "node:timers/promises";
import { describe, expect, it } from "vitest";
import type { BaseCache } from "../cache/base-cache.ts";
import { perTestHandle } from "./helpers.ts";

export interface CacheHandle {
  cache: BaseCache;
  cleanup?: () => Promise<void>;
}
export type CacheFactory = () => Promise<CacheHandle>;

/**
 * Registers the cache contract. Each test gets a cache from `factory` and works under namespaces
 * no other test uses (but for clearing everything, which it checks on a cache of its own).
 */
export function runCacheConformance(name: string, factory: CacheFactory): void {
  describe(`Cache conformance: ${name}`, () => {
    const handle = perTestHandle(factory, "cache");
    const use = () => {
      const { handle: given, ns } = handle();
      return { cache: given.cache, ns };
    };

    it("gives back what was set, only the hits, as copies of the same types", async () => {
      const { cache, ns } = use();
      const value = [["answer", { at: new Date(0), ids: new Set([1, 2]), n: 42 }]];
      await cache.set([{ key: [ns("node"), "k1"], value }]);
      const hits = await cache.get([
        [ns("node"), "k1"],
        [ns("node"), "missing"],
        [ns("other"), "k1"],
      ]);
      expect(hits).toEqual([{ key: [ns("node"), "k1"], value }]);
      (hits[0]?.value as unknown[] | undefined)?.push("changed");
      expect((await cache.get([[ns("node"), "k1"]]))[0]?.value).toEqual(value);
      expect(await cache.get([])).toEqual([]);
    });

    it("replaces an entry set again; of two in one call the last wins", async () => {
      const { cache, ns } = use();
      await cache.set([{ key: [ns("n"), "k"], value: 1 }]);
      await cache.set([
        { key: [ns("n"), "k"], value: 2 },
        { key: [ns("n"), "k"], value: 3 },
      ]);
      expect(await cache.get([[ns("n"), "k"]])).toEqual([{ key: [ns("n"), "k"], value: 3 }]);
    });

    it("keeps an entry for its ttl in seconds, and without one until cleared", async () => {
      const { cache, ns } = use();
      await cache.set([
        { key: [ns("n"), "short"], value: "s", ttl: 0.3 },
        { key: [ns("n"), "kept"], value: "k" },
      ]);
      expect((await cache.get([[ns("n"), "short"]])).length).toBe(1);
      await sleep(450);
      expect(await cache.get([[ns("n"), "short"]])).toEqual([]);
      expect(await cache.get([[ns("n"), "kept"]])).toEqual([{ key: [ns("n"), "kept"], value: "k" }]);
    });

    it("clears the namespaces given, exactly those", async () => {
      const { cache, ns } = use();
      await cache.set([
        { key: [ns("a"), "k"], value: 1 },
        { key: [ns("a", "deeper"), "k"], value: 2 },
        { key: [ns("b"), "k"], value: 3 },
      ]);
      await cache.clear([ns("a")]);
      const left = await cache.get([
        [ns("a"), "k"],
        [ns("a", "deeper"), "k"],
        [ns("b"), "k"],
      ]);
      expect(left.map((hit) => hit.value).sort()).toEqual([2, 3]);
    });

    it("clears everything when given no namespace", async () => {
      const { cache, ns } = use();
      await cache.set([
        { key: [ns("a"), "k"], value: 1 },
        { key: [ns("b"), "k"], value: 2 },
      ]);
      await cache.clear();
      expect(
        await cache.get([
          [ns("a"), "k"],
          [ns("b"), "k"],
        ]),
      ).toEqual([]);
    });

    it("refuses a key or ttl it cannot take, and a value it cannot keep, setting nothing", async () => {
      const { cache, ns } = use();
      const refused = async (entries: unknown, code: string) =>
        expect(cache.set(entries as never)).rejects.toMatchObject({ code });
      await refused([{ key: [ns("n"), 5], value: 1 }], "INVALID_CACHE_OPERATION");
      await refused([{ key: ["not-a-list", "k"], value: 1 }], "INVALID_CACHE_OPERATION");
      await refused(
        [
          { key: [ns("n"), "ok"], value: 1 },
          { key: [ns("n"), "k"], value: 1, ttl: -1 },
        ],
        "INVALID_CACHE_OPERATION",
      );
      await refused(
        [
          { key: [ns("n"), "ok"], value: 1 },
          { key: [ns("n"), "f"], value: () => 1 },
        ],
        "NOT_SERIALIZABLE",
      );
      expect(await cache.get([[ns("n"), "ok"]])).toEqual([]);
      await expect(cache.get([[ns("n"), 7] as never])).rejects.toMatchObject({
        code: "INVALID_CACHE_OPERATION",
      });
    });
  });
}
