// A graph's checkpointer, long-term store and node cache as compile() and entrypoint() are given
// them: refused, naming the option, when they are not one (LangGraph's BaseStore has batch(); its
// BaseCache get, set and clear; its checkpointers are not Layover's).
import { type BaseCache, type BaseStore, type CheckpointSaver, isCache, isStore } from "@layover/checkpoint";
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

const SAVER_METHODS = ["getTuple", "list", "put", "putWrites"] as const;

/**
 * `checkpointer` given to `what` (`compile({ checkpointer })`), checked; undefined or false as
 * given. One of LangGraph's savers (its MemorySaver, PostgresSaver, SqliteSaver: their
 * getNextVersion gives them away) stores another format through other calls, and failed at the
 * first put with a TypeError from inside LangGraph.
 */
export function checkedCheckpointer(
  checkpointer: unknown,
  what: string,
): CheckpointSaver | false | undefined {
  if (checkpointer === undefined || checkpointer === false) return checkpointer;
  const saver = checkpointer as Record<string, unknown>;
  if (typeof checkpointer === "object" && checkpointer !== null && typeof saver.getNextVersion === "function")
    throw new InvalidGraphError(
      `${what} was given a checkpointer from LangGraph (${saver.constructor?.name ?? "a BaseCheckpointSaver"}), whose savers store another format through other calls. ` +
        "Use Layover's in its place: MemorySaver from @layover/graph, PostgresSaver from @layover/checkpoint-postgres.",
    );
  if (
    typeof checkpointer !== "object" ||
    checkpointer === null ||
    SAVER_METHODS.some((m) => typeof saver[m] !== "function")
  )
    throw new InvalidGraphError(
      `${what} takes a checkpointer (MemorySaver, PostgresSaver, a CheckpointSaver): an object with ${SAVER_METHODS.join(", ")}; or false.`,
    );
  return checkpointer as CheckpointSaver;
}
