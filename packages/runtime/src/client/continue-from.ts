// threads.continue's checkpointId: time travel on workers. A thread goes on from an older
// checkpoint of its history, as in-process `invoke(null, { configurable: { checkpoint_id } })`
// (a replay) and `updateState` on it (a fork) do: the run's first commit forks from it and
// becomes the thread's head; the checkpoints after it stay in the history, abandoned.
import { CheckpointNotFoundError, InvalidInputError } from "@layover/graph";
import type { ThreadRow } from "../sql/threads.ts";
import type { ClientContext } from "./context.ts";
import { plannedTasks } from "./read.ts";
import { registeredGraph } from "./start-run.ts";

const NOTHING = "Nothing was written.";

/**
 * Refuses a checkpointId that is not an id, or any while the thread's graph's workers predate it
 * (their registration says so): an older worker would go on from the head instead.
 */
export async function checkCheckpointId(ctx: ClientContext, graphId: string, checkpointId: unknown) {
  if (typeof checkpointId !== "string" || checkpointId === "")
    throw new InvalidInputError(
      `threads.continue's checkpointId must be the id of one of the thread's checkpoints (a snapshot's checkpointId in threads.history), or left out; got ${JSON.stringify(checkpointId) ?? String(checkpointId)}. ${NOTHING}`,
    );
  const graph = await registeredGraph(ctx, graphId);
  if (graph !== undefined && graph.options.continueFrom !== true)
    throw new InvalidInputError(
      `threads.continue's checkpointId: the workers serving graph "${graphId}" predate it; deploy this version of @layover/worker to them first. ${NOTHING}`,
    );
}

/** Where a continue given a checkpointId goes on from; `older` when that is not the thread's head (a fork). */
export interface ForkPoint {
  checkpointId: string;
  older: boolean;
}

/**
 * The checkpoint a continue given `checkpointId` goes on from, read while the thread's row is
 * locked (no run holds it, so its head stands still). Refuses one the thread does not have at its
 * root (a subgraph's is not one), and a replay (no update, no asNode) of one that plans nothing:
 * a run ended there.
 */
export async function forkPoint(
  ctx: ClientContext,
  thread: ThreadRow,
  checkpointId: string,
  plain: boolean,
): Promise<ForkPoint> {
  const [latest, tuple, graph] = await Promise.all([
    ctx.saver.getTuple({ threadId: thread.id, ns: "" }),
    ctx.saver.getTuple({ threadId: thread.id, ns: "", checkpointId }),
    registeredGraph(ctx, thread.graph_id),
  ]);
  if (tuple === undefined)
    throw new CheckpointNotFoundError(
      thread.id,
      checkpointId,
      `Pick one from threads.history(threadId) (a snapshot's checkpointId). ${NOTHING}`,
    );
  const older = tuple.checkpoint.id !== latest?.checkpoint.id;
  // A replay leaves the checkpoint's pending writes (answers, a failed superstep's) behind.
  if (older && plain && plannedTasks({ ...tuple, pendingWrites: [] }, graph).length === 0)
    throw new InvalidInputError(
      `Checkpoint "${checkpointId}" of thread "${thread.id}" is where a run ended: nothing runs from it. ` +
        `Give an update (threads.continue(threadId, { checkpointId, update })), or pick an earlier checkpoint from threads.history. ${NOTHING}`,
    );
  return { checkpointId, older };
}
