// A view of a PostgresSaver whose commits are made only while a caller's condition holds
// (PostgresSaver.guarded): what a worker gives the engine for one job of one run.
import type {
  CheckpointKey,
  CheckpointRef,
  CheckpointSaver,
  CheckpointTuple,
  ListCheckpointsOptions,
  PutCheckpointArgs,
  PutWritesArgs,
} from "@layover/checkpoint";
import type { PutThen } from "./put-then.ts";

/** The saver's commits with the guard applied (PostgresSaver.guarded builds them). */
export interface GuardedCommits {
  store(
    chain: readonly PutCheckpointArgs[],
    then?: { then: PutThen; writes?: readonly PutWritesArgs[] | undefined },
  ): Promise<unknown>;
  writesThen<R>(writes: readonly PutWritesArgs[], then: PutThen): Promise<R | undefined>;
  writes(args: PutWritesArgs): Promise<void>;
}

/**
 * A check of the caller's made before each commit (a worker's: that its job's lock still holds);
 * undefined when there is nothing to wait for, so a commit that needs no check waits for nothing.
 */
export type BeforeCommit = () => Promise<void> | undefined;

function checkedFirst(commits: GuardedCommits, before: BeforeCommit): GuardedCommits {
  const first = async <R>(commit: () => Promise<R>): Promise<R> => {
    const check = before();
    if (check !== undefined) await check;
    return commit();
  };
  return {
    store: (chain, then) => first(() => commits.store(chain, then)),
    writesThen: (writes, then) => first(() => commits.writesThen(writes, then)),
    writes: (args) => first(() => commits.writes(args)),
  };
}

/** Told each chain of checkpoints a guarded saver stored, once it is stored (a worker counts its supersteps). */
export type OnStored = (chain: readonly PutCheckpointArgs[]) => void;

/**
 * A saver for one holder of a guard: its put, putMany, putThen, putWritesThen and putWrites store
 * only while the guard holds (else CheckpointConflictError, as a lost compare-and-set); its reads
 * and deleteThread are the saver's own.
 */
export class GuardedSaver implements CheckpointSaver {
  private readonly saver: CheckpointSaver;
  private readonly commits: GuardedCommits;
  private readonly stored: OnStored | undefined;

  /**
   * `before`: called before each commit; what it throws (or its promise rejects with) is the
   * commit's. `stored`: told each chain stored.
   */
  constructor(saver: CheckpointSaver, commits: GuardedCommits, before?: BeforeCommit, stored?: OnStored) {
    this.saver = saver;
    this.commits = before === undefined ? commits : checkedFirst(commits, before);
    this.stored = stored;
  }

  getTuple(ref: CheckpointRef): Promise<CheckpointTuple | undefined> {
    return this.saver.getTuple(ref);
  }

  list(key: CheckpointKey, options?: ListCheckpointsOptions): AsyncIterable<CheckpointTuple> {
    return this.saver.list(key, options);
  }

  async put(args: PutCheckpointArgs): Promise<void> {
    await this.store([args]);
  }

  async putMany(chain: readonly PutCheckpointArgs[]): Promise<void> {
    await this.store(chain);
  }

  /** PostgresSaver.putThen, under the guard. */
  async putThen<R>(
    args: PutCheckpointArgs | readonly PutCheckpointArgs[],
    then: PutThen,
    writes?: readonly PutWritesArgs[],
  ): Promise<R | undefined> {
    const chain = Array.isArray(args) ? args : [args as PutCheckpointArgs];
    return (await this.store(chain, { then, writes })) as R | undefined;
  }

  private async store(
    chain: readonly PutCheckpointArgs[],
    then?: Parameters<GuardedCommits["store"]>[1],
  ): Promise<unknown> {
    const result = await this.commits.store(chain, then);
    this.stored?.(chain);
    return result;
  }

  /** PostgresSaver.putWritesThen, under the guard. */
  putWritesThen<R>(writes: readonly PutWritesArgs[], then: PutThen): Promise<R | undefined> {
    return this.commits.writesThen<R>(writes, then);
  }

  /**
   * PostgresSaver.putWrites, under the guard: pending writes move no head, but a checkpoint's
   * writes are what a resume or a replay from it takes as done, so only the holder adds them.
   */
  putWrites(args: PutWritesArgs): Promise<void> {
    return this.commits.writes(args);
  }

  deleteThread(threadId: string): Promise<void> {
    return this.saver.deleteThread(threadId);
  }
}
