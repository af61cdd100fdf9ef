// A node cache in this process's memory, for tests and single processes: as LangGraph's
// InMemoryCache. Values are stored as the checkpoint serializer writes them, so what a hit gives
// back is a copy, of the same types a Postgres cache gives.
import { jsonSerializer } from "../serializer.ts";
import {
  BaseCache,
  type CacheEntry,
  type CacheFullKey,
  checkCacheEntries,
  checkCacheKey,
} from "./base-cache.ts";

interface Stored {
  text: string;
  /** Epoch milliseconds after which the entry is gone; undefined: never. */
  expiresAt: number | undefined;
}

const nsKey = (namespace: readonly string[]) => JSON.stringify(namespace);

export class InMemoryCache extends BaseCache {
  private readonly entries = new Map<string, Map<string, Stored>>();

  async get(keys: CacheFullKey[]): Promise<Array<{ key: CacheFullKey; value: unknown }>> {
    const now = Date.now();
    const found: Array<{ key: CacheFullKey; value: unknown }> = [];
    for (const key of keys) {
      checkCacheKey(key);
      const [namespace, name] = key;
      const space = this.entries.get(nsKey(namespace));
      const stored = space?.get(name);
      if (stored === undefined) continue;
      if (stored.expiresAt !== undefined && stored.expiresAt <= now) {
        space?.delete(name);
        continue;
      }
      found.push({ key: [[...namespace], name], value: jsonSerializer.loads(stored.text) });
    }
    return found;
  }

  async set(entries: CacheEntry[]): Promise<void> {
    checkCacheEntries(entries);
    const texts = entries.map((entry) => jsonSerializer.dumps(entry.value)); // all refused or none stored
    const now = Date.now();
    entries.forEach(({ key: [namespace, name], ttl }, i) => {
      const space = this.entries.get(nsKey(namespace)) ?? new Map<string, Stored>();
      this.entries.set(nsKey(namespace), space);
      space.set(name, {
        text: texts[i] as string,
        expiresAt: ttl === undefined ? undefined : now + ttl * 1000,
      });
    });
  }

  async clear(namespaces: string[][] = []): Promise<void> {
    if (namespaces.length === 0) this.entries.clear();
    for (const namespace of namespaces) this.entries.delete(nsKey(namespace));
  }
}
