// What a superstep needs besides its head, and what it did: shared by the step and the code
// that stores what a superstep leaves.
import type { BaseStore, CheckpointKey, CheckpointSaver, PutCheckpointArgs } from "@layover/checkpoint";
import type { Durability } from "./commit.ts";
import type { GraphCache } from "./graph/cache-policy.ts";
import type { GraphSpec } from "./graph/spec.ts";
import type { LoadedHead } from "./head.ts";
import type { Interrupt } from "./interrupt.ts";
import type { StorePause } from "./pause.ts";
import type { Emitter } from "./stream.ts";

/** Everything a superstep needs besides the head: the graph, where it is stored, how it runs. */
export interface StepEnv {
  spec: GraphSpec;
  saver: CheckpointSaver;
  key: CheckpointKey;
  /** False when the graph runs without a checkpointer (interrupt() then fails clearly). */
  durable: boolean;
  configurable: Record<string, unknown>;
  /** A subgraph's: the progress of the timed node it runs in (its tasks' work refreshes that node's idle timeout). */
  progress?: (() => void) | undefined;
  signal: AbortSignal;
  /** The LangChain run the run's node runs go under (a subgraph's: its caller's node run); none at a root call. */
  chainParent?: string | undefined;
  interruptBefore: ReadonlySet<string> | "*";
  interruptAfter: ReadonlySet<string> | "*";
  /**
   * Subgraphs this run's tasks call store their checkpoints in `saver` even when compiled with a
   * saver of their own (see StepperOptions.subgraphsShareSaver); nested subgraphs inherit it.
   */
  subgraphsShareSaver?: boolean | undefined;
  /**
   * With subgraphsShareSaver: the run's cache, where subgraphs compiled with a cache of their own
   * keep their nodes' writes (an InMemoryCache of theirs would be one process's); nested ones inherit it.
   */
  subgraphsCache?: GraphCache | undefined;
  /** Resume values of the enclosing task (a subgraph sees its parent's). */
  inheritedResume: ReadonlyMap<string, unknown> | undefined;
  emit: Emitter | undefined;
  /**
   * The state keys its "values" and "updates" show: a subgraph's output schema's when it runs
   * from invoke() inside a streaming run (as LangGraph's); undefined: every key.
   */
  streamKeys?: readonly string[] | undefined;
  /** Caller metadata stamped on every checkpoint this call writes (`config.metadata`). */
  metadata: Record<string, unknown> | undefined;
  /** "exit": store a checkpoint only when the run stops or hands over (see commit.ts). */
  durability: Durability;
  /** The call's `config.context` and `config.tags`, handed to every node. */
  context: unknown;
  tags: readonly string[];
  /** The call's `config.recursionLimit` (a subgraph's: its caller's when its call gives none). */
  recursionLimit?: number | undefined;
  /** The call's LangChain callback handlers (`config.callbacks`), handed to every node. */
  callbacks?: readonly object[] | undefined;
  /** The graph's long-term store, handed to every node (`config.store`). */
  store?: BaseStore | undefined;
  /** Where nodes and tasks with a cachePolicy keep their writes, under the graph's cache name. */
  cache?: GraphCache | undefined;
  /** Stores a pause with the supersteps held before it (see StepperOptions.storePause). */
  storePause?: StorePause | undefined;
  /** Stores the run's last checkpoint in place of `saver.put` (see StepperOptions.storeFinal). */
  storeFinal?: ((chain: readonly PutCheckpointArgs[]) => Promise<void>) | undefined;
  /**
   * Durability "async" holds a superstep that another follows and stores it with its successor
   * (see StepperOptions.holdAsync); a store of held heads in flight is `storing`.
   */
  holdAsync?: boolean | undefined;
  /** With `holdAsync`: the run's seed, so its input checkpoint is held too (StepperOptions.seed). */
  inputSeed?: string | undefined;
  storing?: Promise<void> | undefined;
  /** A background store failed (see StoreEnv.stalled). */
  stalled?: boolean | undefined;
}

/** What one superstep did. `head` is the thread's head afterwards. */
export type StepResult =
  | { status: "next"; head: LoadedHead; tasks: string[] }
  | { status: "done"; head: LoadedHead }
  | {
      status: "interrupted";
      head: LoadedHead;
      interrupts: Interrupt[];
      /** The state with what the paused superstep's finished tasks wrote, when they wrote any (not stored: pending writes). */
      values?: Record<string, unknown>;
    }
  | { status: "failed"; head: LoadedHead; error: unknown };
