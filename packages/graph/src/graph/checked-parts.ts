// A graph's long-term store and node cache as compile() and entrypoint() are given them: refused,
// naming the option, when they are not one (LangGraph's BaseStore has batch(); its BaseCache get,
// set and clear).
import { type BaseCache, type BaseStore, isCache, isStore } from "@layover/checkpoint";
import { InvalidGraphError } from "../errors.ts";

/** `store` given to `what` (`compile({ store })`), checked; undefined when not given. */
export function checkedStore(store: unknown, what: string): BaseStore | undefined {
  if (store === undefined) return undefined;
  if (!isStore(store))
    throw new InvalidGraphError(
      `${what} takes a long-term store (InMemoryStore, PostgresStore, a BaseStore): an object with batch().`,
    );
  return store;
}

/** `cache` given to `what` (`compile({ cache })`), checked; undefined when not given. */
export function checkedCache(cache: unknown, what: string): BaseCache | undefined {
  if (cache === undefined) return undefined;
  if (!isCache(cache))
    throw new InvalidGraphError(
      `${what} takes a cache (InMemoryCache, PostgresCache, a BaseCache): an object with get, set and clear.`,
    );
  return cache;
}
