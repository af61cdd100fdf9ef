import { randomUUID } from "node:crypto";
import { InvalidInputError } from "@layover/graph";
import { z } from "zod";
import { inTransaction } from "../db.ts";
import { ThreadBusyError, UnknownGraphError } from "../errors.ts";
import type { StepJob } from "../jobs.ts";
import { getGraph, listGraphIds } from "../sql/graphs.ts";
import { insertRun, runByIdempotencyKey } from "../sql/runs.ts";
import { setThreadState, upsertAndLockThread } from "../sql/threads.ts";
import { type ClientContext, dispatchRecorded } from "./context.ts";

export interface StartRunArgs {
  graphId: string;
  input: Record<string, unknown>;
  /** @defaultValue a new random thread id */
  threadId?: string;
  config?: { recursionLimit?: number };
  /**
   * What to do when the thread is running or waiting for a person.
   * @defaultValue "reject" — ThreadBusyError; "enqueue" runs after the current run ends.
   */
  multitaskStrategy?: "reject" | "enqueue";
  /** A retried call with the same key returns the first call's run. */
  idempotencyKey?: string;
}

const validators = new Map<string, z.ZodType>();

function validatorFor(schema: Record<string, unknown>): z.ZodType {
  const key = JSON.stringify(schema);
  let validator = validators.get(key);
  if (validator === undefined) {
    validator = z.fromJSONSchema(schema as Parameters<typeof z.fromJSONSchema>[0]);
    if (validators.size > 500) validators.clear();
    validators.set(key, validator);
  }
  return validator;
}

async function checkInput(ctx: ClientContext, args: StartRunArgs): Promise<void> {
  const graph = await getGraph(ctx.db, ctx.db.pool, args.graphId);
  if (graph === undefined) throw new UnknownGraphError(args.graphId, await listGraphIds(ctx.db));
  const result = validatorFor(graph.input_schema).safeParse(args.input);
  if (!result.success) {
    const issues = result.error.issues.map((i) =>
      i.path.length ? `${i.path.join(".")}: ${i.message}` : i.message,
    );
    throw new InvalidInputError(
      `The input of a "${args.graphId}" run does not fit the graph's state schema: ${issues.join("; ")}. Nothing was written.`,
      issues,
    );
  }
}

/** Records a run (and its thread) in Postgres, then enqueues its first job. */
export async function startRun(
  ctx: ClientContext,
  args: StartRunArgs,
): Promise<{ runId: string; threadId: string }> {
  await checkInput(ctx, args);
  const threadId = args.threadId ?? randomUUID();
  const { runId, job } = await inTransaction(ctx.db, async (client) => {
    const thread = await upsertAndLockThread(ctx.db, client, threadId, args.graphId);
    if (args.idempotencyKey !== undefined) {
      const earlier = await runByIdempotencyKey(ctx.db, client, threadId, args.idempotencyKey);
      if (earlier) return { runId: earlier.id, job: null };
    }
    if (thread.graph_id !== args.graphId)
      throw new InvalidInputError(
        `Thread "${threadId}" runs graph "${thread.graph_id}", not "${args.graphId}". Use a new thread id.`,
      );
    const free = thread.status === "idle" || thread.status === "error";
    if (!free && (args.multitaskStrategy ?? "reject") === "reject")
      throw new ThreadBusyError(threadId, thread.status);
    const id = randomUUID();
    await insertRun(ctx.db, client, {
      id,
      thread_id: threadId,
      graph_id: args.graphId,
      kind: "start",
      input: { input: args.input, ...(args.config ? { config: args.config } : {}) },
      idempotency_key: args.idempotencyKey ?? null,
      checkpoint_id: null,
    });
    if (!free) return { runId: id, job: null };
    await setThreadState(ctx.db, client, threadId, { status: "busy", currentRunId: id });
    return { runId: id, job: { threadId, runId: id, checkpointId: null } satisfies StepJob };
  });
  await dispatchRecorded(ctx, job);
  return { runId, threadId };
}
