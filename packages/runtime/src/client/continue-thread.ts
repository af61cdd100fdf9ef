import { randomUUID } from "node:crypto";
import { InvalidInputError, NotInterruptedError } from "@layover/graph";
import { inTransaction } from "../db.ts";
import { ThreadNotFoundError } from "../errors.ts";
import { isStorableId } from "../keys.ts";
import { checkRunStreamMode, type RunStreamMode } from "../run-stream.ts";
import { threadInterrupts } from "../sql/interrupts.ts";
import { insertRun } from "../sql/runs.ts";
import { lockThread, setThreadState } from "../sql/threads.ts";
import { type ClientContext, dispatchRecorded, expecting } from "./context.ts";

/**
 * Continues a thread parked at a static breakpoint (`interruptBefore` / `interruptAfter`): the
 * distributed `invoke(null, config)`. A thread waiting on `interrupt()` answers needs `resume`.
 * `streamMode`: what the run's workers report, for runs.stream.
 */
export async function continueThread(
  ctx: ClientContext,
  threadId: string,
  options: { streamMode?: RunStreamMode | RunStreamMode[] } = {},
): Promise<{ runId: string }> {
  checkRunStreamMode(options.streamMode, "threads.continue's streamMode");
  if (!isStorableId(threadId)) throw new ThreadNotFoundError(String(threadId));
  const config = options.streamMode === undefined ? {} : { config: { streamMode: options.streamMode } };
  const id = randomUUID();
  const { runId, job } = await expecting(ctx, id, threadId, () =>
    inTransaction(ctx.db, async (client) => {
      const thread = await lockThread(ctx.db, client, threadId);
      if (thread === undefined) throw new ThreadNotFoundError(threadId);
      const pending = await threadInterrupts(ctx.db, client, threadId, "pending");
      if (pending.length > 0)
        throw new InvalidInputError(
          `Thread "${threadId}" waits for answers to interrupt(s) ${pending.map((p) => p.id).join(", ")}: ` +
            "answer them with threads.resume(threadId, value).",
        );
      if (thread.status !== "interrupted") throw new NotInterruptedError(threadId);
      await insertRun(ctx.db, client, {
        id,
        thread_id: threadId,
        graph_id: thread.graph_id,
        kind: "resume",
        input: { continue: true, ...config },
        idempotency_key: null,
        checkpoint_id: thread.head_checkpoint,
      });
      await setThreadState(ctx.db, client, threadId, { status: "busy", currentRunId: id });
      return { runId: id, job: { threadId, runId: id, checkpointId: thread.head_checkpoint } };
    }),
  );
  await dispatchRecorded(ctx, job);
  return { runId };
}
