import { afterEach, beforeEach, describe } from "vitest";
import { describeCompareAndSet } from "./compare-and-set.ts";
import { type ConformanceEnv, type SaverFactory, type SaverHandle, uniqueThreadId } from "./helpers.ts";
import { describeIsolation } from "./isolation.ts";
import { describeList } from "./list.ts";
import { describeReadAndPut } from "./read-and-put.ts";
import { describeWritesAndDelete } from "./writes-and-delete.ts";

export { type CacheFactory, type CacheHandle, runCacheConformance } from "./cache.ts";
export type { SaverFactory, SaverHandle } from "./helpers.ts";
export { type IndexedStoreFactory, WordEmbeddings, wordCounts } from "./semantic-store.ts";
export { runStoreConformance, type StoreFactory, type StoreHandle } from "./store.ts";

/**
 * Registers the checkpointer contract as vitest tests. Every test gets a fresh saver from
 * `factory` (and calls its `cleanup` afterwards) and works on thread ids no other test uses,
 * so savers backed by one shared database can run it too.
 *
 * @example
 * runCheckpointSaverConformance("MemorySaver", async () => ({ saver: new MemorySaver() }));
 */
export function runCheckpointSaverConformance(name: string, factory: SaverFactory): void {
  describe(`CheckpointSaver conformance: ${name}`, () => {
    let handle: SaverHandle | undefined;
    let env: ConformanceEnv | undefined;

    beforeEach(async () => {
      handle = await factory();
      const threadId = uniqueThreadId();
      env = { saver: handle.saver, threadId, key: { threadId, ns: "" } };
    });

    afterEach(async () => {
      const done = handle;
      handle = undefined;
      env = undefined;
      await done?.cleanup?.();
    });

    const use = (): ConformanceEnv => {
      if (env === undefined) throw new Error("The conformance environment is only available inside a test.");
      return env;
    };

    describeReadAndPut(use);
    describeList(use);
    describeCompareAndSet(use);
    describeWritesAndDelete(use);
    describeIsolation(use);
  });
}
