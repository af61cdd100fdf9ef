// The worker's view of a thread: load its head once, record an input or a resume on it, then
// advance it superstep by superstep, keeping each committed head in memory for the next.
import type {
  Checkpoint,
  CheckpointMetadata,
  CheckpointTuple,
  PendingWrite,
  PutCheckpointArgs,
} from "@layover/checkpoint";
import { storeWhenIdle } from "../commit.ts";
import { InvalidInputError } from "../errors.ts";
import type { LoadedHead } from "../head.ts";
import type { Interrupt } from "../interrupt.ts";
import type { StorePause, WaitingTask } from "../pause.ts";
import { waitingTasks } from "../snapshot.ts";
import { runSuperstep, type StepEnv, type StepResult } from "../step.ts";
import type { Emitter } from "../stream.ts";
import { storeOrFail } from "../uncommitted.ts";
import { storedCheckpoint } from "../untracked.ts";

export interface StepperOptions {
  /**
   * The thread's latest checkpoint, read already: what this graph's checkpointer's
   * `getTuple({ threadId, ns: "" })` resolves to. A worker starts that read beside its own (of
   * the run it serves) to save a round trip; the stepper uses it for its first head, once.
   */
  head?: Promise<CheckpointTuple | undefined>;
  /**
   * Stores the run's last checkpoint — the superstep after which nothing is planned — instead
   * of the checkpointer's `put`, with `put`'s contract (compare-and-set, CheckpointConflictError,
   * nothing written when it throws). A worker commits it together with the run's end, in one
   * statement. Every other checkpoint goes through `put`.
   */
  storeFinal?: (chain: readonly PutCheckpointArgs[]) => Promise<void>;
  /**
   * With `holdAsync`: stores a run that pauses (a task called `interrupt()`) — the supersteps
   * held before it (none when its head is stored already), the pending writes of the head it
   * pauses at, and the caller's own record of the pause (a worker parks the run) — in one
   * statement, with `put`'s contract.
   */
  storePause?: StorePause;
  /**
   * Under durability "async", hold a superstep that another follows in memory and store it with
   * its successor's commit, in one put (`putMany`): a worker's job stores several supersteps in
   * one round trip. A held superstep is stored in the background as soon as the event loop is
   * free (a node awaiting I/O), so it is stored while the next superstep runs, as LangGraph's
   * "async" stores it; a process that dies first loses it, and the run does it again. Its tasks
   * keep their ids then (the checkpoint carries their seed, as under "exit").
   */
  holdAsync?: boolean;
  /**
   * With `holdAsync`: a seed unique to the run the stepper serves (a worker gives its run id).
   * The run's input checkpoint (`prepare()`) is then held too and stored with the supersteps
   * after it; its tasks' ids derive from the seed, so a redo of the run after a crash keeps them.
   */
  seed?: string;
  /**
   * Subgraphs the run's tasks call (as nodes or from node code, at any depth) store their
   * checkpoints in this graph's checkpointer even when compiled with a saver of their own, as a
   * worker needs: its checkpointer (Postgres) is what every process shares, and a subgraph's own
   * saver (a MemorySaver) would hold a paused subgraph in one process only. `checkpointer: false`
   * still means a subgraph that cannot pause.
   * @defaultValue false — a subgraph's own saver is used, as in LangGraph
   */
  subgraphsShareSaver?: boolean;
  /** Where the run reports what happens (its input's values, updates, custom chunks…), as `stream()` reports it. */
  emit?: Emitter;
}

/** What one call to `step()` did, for workers that drive a thread one superstep per job. */
export interface StepOutcome {
  status: StepResult["status"];
  /** The thread's head after the step. */
  checkpointId: string;
  step: number;
  /** Nodes of the next superstep (status "next"). */
  next: string[];
  /** Interrupts this step raised (status "interrupted"). */
  interrupts: Interrupt[];
  /**
   * Every task left waiting for an answer, with its unanswered interrupts (status
   * "interrupted"): which task and node each interrupt belongs to, without reading the head.
   */
  waiting: WaitingTask[];
  /** The head the run ends at (status "done") or waits at (status "interrupted"), as stored. */
  checkpoint?: Checkpoint;
  error?: unknown;
}

/** The head a stepper holds: enough to tell whether a run's input or answers are recorded. */
export interface HeadInfo {
  checkpointId: string;
  metadata: CheckpointMetadata;
  pendingWrites: readonly PendingWrite[];
}

export interface Stepper {
  /** The thread's head, loaded on first use and kept; undefined for a thread with no checkpoint. */
  head(): Promise<HeadInfo | undefined>;
  /**
   * Records an input, a `Command` or `null` (past a static breakpoint) on the held head, as
   * `graph.prepare()` does; the next `step()` starts from the result without reading it back.
   */
  prepare(input: unknown): Promise<{ checkpointId: string }>;
  /**
   * Applies `values` on the held head as if `asNode` had returned them, then goes on past a
   * static breakpoint in front of what they plan: `updateState(config, values, asNode)` followed
   * by `invoke(null, config)`. The next `step()` starts from the result.
   */
  prepareUpdate(values: unknown, asNode: string): Promise<{ checkpointId: string }>;
  /**
   * Holds the thread's older checkpoint `checkpointId` in place of its head (time travel): the
   * next `prepare` or `prepareUpdate` forks from it, as `invoke(null, { configurable: {
   * checkpoint_id } })` and `updateState` on it do, and what it commits becomes the thread's
   * head. Its pending writes are left behind, as a replay leaves them. Throws
   * CheckpointNotFoundError for a checkpoint the thread does not have.
   */
  rewind(checkpointId: string): Promise<void>;
  /** Advances the thread by one superstep from the held head and holds the head it commits. */
  step(): Promise<StepOutcome>;
  /**
   * Stores the held head if it is in memory only (durability "exit", or held "async"
   * supersteps): call it before handing the thread to another job. Through `put` when given
   * (with `putMany`'s contract: a worker records the run's progress in the same statement); not
   * called when nothing is held. Resolves to a failed outcome when the supersteps since the last
   * stored head cannot be stored.
   */
  flush(put?: (chain: readonly PutCheckpointArgs[]) => Promise<void>): Promise<StepOutcome | undefined>;
}

function outcomeOf(env: StepEnv, result: StepResult): StepOutcome {
  return {
    status: result.status,
    checkpointId: result.head.checkpoint.id,
    step: result.head.metadata.step,
    next: result.status === "next" ? result.tasks : [],
    interrupts: result.status === "interrupted" ? result.interrupts : [],
    waiting: result.status === "interrupted" ? waitingTasks(env, result.head) : [],
    ...(result.status === "done" || result.status === "interrupted"
      ? { checkpoint: storedCheckpoint(env.spec, result.head.checkpoint) }
      : {}),
    ...(result.status === "failed" ? { error: result.error } : {}),
  };
}

/**
 * A background store in flight is waited for (it usually finished while the last superstep's
 * nodes awaited their I/O); after one failed, `head` is stored now, or the failure it meets.
 */
async function unstall(env: StepEnv, head: LoadedHead): Promise<StepResult | undefined> {
  await env.storing?.catch(() => undefined);
  if (!env.stalled) return undefined;
  env.stalled = false;
  return storeOrFail(env, head);
}

/**
 * One superstep from `head`. A background store failed before it or while it ran: go no further
 * until the held supersteps are stored (a conflict throws; an unstorable value fails).
 */
async function advance(env: StepEnv, head: LoadedHead): Promise<StepResult> {
  const ran = (await unstall(env, head)) ?? (await runSuperstep(env, head));
  return ran.status === "next" ? ((await unstall(env, ran.head)) ?? ran) : ran;
}

/**
 * A stepper over `env`'s thread. `load` reads the head (or an older checkpoint, with the head's
 * as the one its first commit expects); `enter` records an input on a head.
 * After any error (a lost compare-and-set above all) the held head is dropped and reloaded.
 */
export function createStepper(
  env: StepEnv,
  load: (checkpointId?: string) => Promise<LoadedHead | undefined>,
  enter: (head: LoadedHead | undefined, input: unknown) => Promise<LoadedHead | undefined>,
  update: (head: LoadedHead | undefined, values: unknown, asNode: string) => Promise<LoadedHead>,
): Stepper {
  let held: { head: LoadedHead | undefined } | undefined;
  const current = async () => {
    held ??= { head: await load() };
    return held.head;
  };
  const guarded = async <T>(fn: () => Promise<T>): Promise<T> => {
    try {
      return await fn();
    } catch (error) {
      held = undefined;
      throw error;
    }
  };
  /** Holds the head `entering` commits on the held one. */
  const record = (entering: (head: LoadedHead | undefined) => Promise<LoadedHead>) =>
    guarded(async () => {
      const entered = await entering(await current());
      held = { head: entered };
      storeWhenIdle(env, entered);
      return { checkpointId: entered.checkpoint.id };
    });
  return {
    async head() {
      const head = await guarded(current);
      return (
        head && {
          checkpointId: head.checkpoint.id,
          metadata: head.metadata,
          pendingWrites: head.pendingWrites,
        }
      );
    },
    prepare: (input) => record((head) => enter(head, input) as Promise<LoadedHead>),
    prepareUpdate: (values, asNode) => record((head) => update(head, values, asNode)),
    rewind: (checkpointId) =>
      guarded(async () => {
        held = { head: await load(checkpointId) };
      }),
    step: () =>
      guarded(async () => {
        const head = await current();
        if (head === undefined)
          throw new InvalidInputError(`Thread "${env.key.threadId}" has no checkpoint to advance.`);
        const result = await advance(env, head);
        held = result.status === "next" ? { head: result.head } : undefined;
        if (result.status === "next") storeWhenIdle(env, result.head);
        return outcomeOf(env, result);
      }),
    flush: (put) =>
      guarded(async () => {
        const head = held?.head;
        if (head?.deferred === undefined) return undefined;
        const failed = await storeOrFail(env, head, put);
        if (failed === undefined) return undefined;
        held = undefined;
        return outcomeOf(env, failed);
      }),
  };
}
