import { randomUUID } from "node:crypto";
import { jsonbProblem } from "@layover/checkpoint";
import { InvalidInputError, NotInterruptedError, START } from "@layover/graph";
import type { PoolClient } from "pg";
import { inTransaction, type Queryable } from "../db.ts";
import { ThreadBusyError, ThreadNotFoundError, UnknownGraphError } from "../errors.ts";
import type { StepJob } from "../jobs.ts";
import { checkKey, isStorableId } from "../keys.ts";
import { firstCallOfKey } from "../same-call.ts";
import { listGraphIds } from "../sql/graphs.ts";
import { supersedeInterrupts, threadInterrupts } from "../sql/interrupts.ts";
import { getRun, insertRun, type RunConfig, type RunInput, runByIdempotencyKey } from "../sql/runs.ts";
import { getThread, lockThread, setThreadState, type ThreadRow } from "../sql/threads.ts";
import { type ClientContext, dispatchRecorded, expecting } from "./context.ts";
import { checkCheckpointId, forkPoint } from "./continue-from.ts";
import { knownKeys, objectArg } from "./object-arg.ts";
import { plannedTasks } from "./read.ts";
import { checkConfig, type RunOptions, runOptionsConfig } from "./run-config.ts";
import { checkStateValues, registeredGraph } from "./start-run.ts";

/** A continue's options; its run's (durability, context, streamMode, streamSubgraphs) as RunOptions says. */
export interface ContinueOptions extends RunOptions {
  /**
   * A state update applied as the run goes on past the breakpoint, as LangGraph's
   * `invoke(new Command({ update }), config)` at a breakpoint: the review-and-edit of a tool call
   * before its tools run (an AI message with the same id replaces it). Checked against the
   * graph's state schema before anything is written.
   */
  update?: Record<string, unknown>;
  /**
   * The node the update counts as, as LangGraph's `updateState(config, values, asNode)` followed
   * by `invoke(null, config)`: that node's edges decide what runs next, in place of the tasks
   * waiting at the breakpoint — `{ update: { messages: [toolMessage] }, asNode: "tools" }`
   * answers a tool call instead of running the tool. Without an update, the node is skipped.
   * Checked against the graph's nodes before anything is written.
   */
  asNode?: string;
  /**
   * An older checkpoint of the thread to go on from (a snapshot's `checkpointId` in
   * `threads.history`): time travel, as LangGraph's `invoke(null, { configurable: { checkpoint_id
   * } })` replays from one and `updateState` on one forks. The run's first commit forks from it
   * and becomes the thread's head; the checkpoints after it stay in the history. Its nodes run
   * again, side effects and all; the questions the thread waited for are cancelled (resolved by
   * this run), as a start's are. Without `update` or `asNode`, a checkpoint where a run ended is
   * refused (nothing runs from it). The thread's head itself: as without it.
   */
  checkpointId?: string;
  /**
   * A retry of this continue with the same key returns its first call's run, instead of running
   * the thread on again (a failed node once more); the key given with another update, asNode or
   * run options is refused (IdempotencyKeyReusedError). Kept per thread, as a start's and a
   * resume's are.
   */
  idempotencyKey?: string;
}

const CONTINUE_OPTIONS = [
  "update",
  "asNode",
  "checkpointId",
  "idempotencyKey",
  "durability",
  "context",
  "streamMode",
  "streamSubgraphs",
] as const satisfies readonly (keyof ContinueOptions)[];

/**
 * Refuses an update the run could not apply (not an object, not JSON, not the graph's keys) or
 * a node it could not count as, before anything is written.
 */
async function checkUpdate(ctx: ClientContext, threadId: string, options: ContinueOptions): Promise<void> {
  const { update, asNode, checkpointId } = options;
  if (update === undefined && asNode === undefined && checkpointId === undefined) return;
  if (update !== undefined) {
    objectArg(update, "threads.continue's update", "{ messages: [editedMessage] }", true);
    const problem = jsonbProblem(update, "The update");
    if (problem !== undefined) throw new InvalidInputError(`${problem} Nothing was written.`);
  }
  if (asNode !== undefined && (typeof asNode !== "string" || asNode === "")) {
    throw new InvalidInputError(
      `threads.continue's asNode must be the name of a node of the thread's graph, such as "tools"; got ${JSON.stringify(asNode)}. Nothing was written.`,
    );
  }
  const thread = await getThread(ctx.db, ctx.db.pool, threadId);
  if (thread === undefined) throw new ThreadNotFoundError(threadId);
  const what = `The update of threads.continue on thread "${threadId}"`;
  await checkStateValues(ctx, thread.graph_id, update ?? {}, what, "update");
  if (asNode !== undefined) await checkAsNode(ctx, thread.graph_id, asNode);
  if (checkpointId !== undefined) await checkCheckpointId(ctx, thread.graph_id, checkpointId);
}

/**
 * Refuses a continue's context or durability while the thread's graph's workers predate them
 * (their registration says so): an older worker would run the continue without either, and
 * without the start's context too.
 */
async function checkRunOptionsServed(ctx: ClientContext, threadId: string, options: ContinueOptions) {
  const given = (["context", "durability"] as const).filter((option) => options[option] !== undefined);
  if (given.length === 0) return;
  const thread = await getThread(ctx.db, ctx.db.pool, threadId);
  if (thread === undefined) throw new ThreadNotFoundError(threadId);
  const graph = await registeredGraph(ctx, thread.graph_id);
  if (graph === undefined) throw new UnknownGraphError(thread.graph_id, await listGraphIds(ctx.db));
  if (graph.options.continueRunOptions !== true)
    throw new InvalidInputError(
      `threads.continue's ${given.join(" and ")}: the workers serving graph "${thread.graph_id}" predate them; deploy this version of @layover/worker to them first, or continue without. Nothing was written.`,
    );
}

/**
 * Refuses a node the graph its workers registered does not have (LangGraph's START is one), an
 * entrypoint's, or any while the graph's workers predate asNode (their registration says so).
 */
async function checkAsNode(ctx: ClientContext, graphId: string, asNode: string): Promise<void> {
  const graph = await registeredGraph(ctx, graphId);
  if (graph === undefined) throw new UnknownGraphError(graphId, await listGraphIds(ctx.db));
  const refuse = (why: string) => {
    throw new InvalidInputError(`threads.continue's asNode "${asNode}": ${why}. Nothing was written.`);
  };
  if (graph.options.entrypoint === true)
    refuse(
      `graph "${graphId}" is an entrypoint (the functional API), a single node whose value an update does not set`,
    );
  if (graph.options.continueAsNode !== true)
    refuse(
      `the workers serving graph "${graphId}" predate asNode; deploy this version of @layover/worker to them first`,
    );
  const nodes = graph.options.nodes;
  if (nodes === undefined || asNode === START || nodes.includes(asNode)) return;
  throw new InvalidInputError(
    `threads.continue's asNode "${asNode}" is not a node of graph "${graphId}" (its nodes: ${nodes.join(", ")}). Nothing was written.`,
  );
}

/**
 * Refuses to continue a thread a run holds (`ThreadBusyError`): a cancelled one too, until its job
 * stops (a node that ignores its signal runs on), which the message says.
 */
async function refuseBusy(ctx: ClientContext, client: Queryable, thread: ThreadRow): Promise<void> {
  if (thread.status !== "busy") return;
  const run =
    thread.current_run_id === null ? undefined : await getRun(ctx.db, client, thread.current_run_id);
  const why =
    run?.status === "cancelled"
      ? `its run ${run.id} was cancelled, and its job has not let the thread go yet (a node that ignores its signal runs on): continue once threads.get shows the thread idle`
      : `it is busy with run ${thread.current_run_id}: continue it once that run ends (runs.wait), or cancel it first`;
  throw new ThreadBusyError(
    thread.id,
    "busy",
    `Thread "${thread.id}" cannot be continued: ${why}. Nothing was written.`,
  );
}

/**
 * The checkpoint a continue goes on from: a breakpoint's, where the thread parked; else the
 * thread's head as stored (a failed or cancelled run's last commit: the thread's row may not have
 * it). Refused when there is none, and, for a plain continue, when the head plans nothing (it
 * finished: nothing is left to run).
 */
async function continuedFrom(ctx: ClientContext, thread: ThreadRow, plain: boolean): Promise<string> {
  if (thread.status === "interrupted" && thread.head_checkpoint !== null) return thread.head_checkpoint;
  const [tuple, graph] = await Promise.all([
    ctx.saver.getTuple({ threadId: thread.id, ns: "" }),
    registeredGraph(ctx, thread.graph_id),
  ]);
  if (tuple === undefined)
    throw new NotInterruptedError(
      thread.id,
      "It has no checkpoint to continue from (its first run never ran a superstep): start it with an input (runs.start).",
    );
  if (plain && plannedTasks(tuple, graph).length === 0)
    throw new NotInterruptedError(
      thread.id,
      "Its last run finished: nothing is left to run. Start it with an input (runs.start).",
    );
  return tuple.checkpoint.id;
}

/**
 * Runs a stopped thread on from its last checkpoint: the distributed `invoke(null, config)`. A
 * thread parked at a static breakpoint (`interruptBefore` / `interruptAfter`) goes past it; one
 * whose last run failed, or was cancelled, runs again what that run had not finished (a failed
 * superstep's finished tasks are not run again, and an answer it had taken is used again); a
 * finished one is refused. A thread waiting on `interrupt()` answers needs `resume`. Given a
 * `checkpointId`, goes on from that older checkpoint instead (time travel: a fork). A retry with
 * the same `idempotencyKey` gets the first call's run.
 * `streamMode`: what the run's workers report, for runs.stream.
 */
export async function continueThread(
  ctx: ClientContext,
  threadId: string,
  options: ContinueOptions = {},
): Promise<{ runId: string }> {
  knownKeys(options, CONTINUE_OPTIONS, "threads.continue's options", "Nothing was written.");
  const runConfig = runOptionsConfig(options);
  checkConfig(runConfig);
  if (!isStorableId(threadId)) throw new ThreadNotFoundError(String(threadId));
  checkKey(options.idempotencyKey, "idempotencyKey", "(a retry then runs the thread on again)");
  await checkUpdate(ctx, threadId, options);
  await checkRunOptionsServed(ctx, threadId, options);
  const id = randomUUID();
  const { runId, job } = await expecting(ctx, id, threadId, () =>
    inTransaction(ctx.db, (client) => recordContinue(ctx, client, { id, threadId, options, runConfig })),
  );
  await dispatchRecorded(ctx, job);
  return { runId };
}

/**
 * Records a continue's run under the thread's lock, and the job to enqueue; a retry of an earlier
 * continue (its idempotency key) gives back that call's run and no job.
 */
async function recordContinue(
  ctx: ClientContext,
  client: PoolClient,
  args: { id: string; threadId: string; options: ContinueOptions; runConfig: RunConfig | undefined },
): Promise<{ runId: string; job: StepJob | null }> {
  const { id, threadId, options, runConfig } = args;
  const thread = await lockThread(ctx.db, client, threadId);
  if (thread === undefined) throw new ThreadNotFoundError(threadId);
  const key = options.idempotencyKey;
  const earlier = key === undefined ? undefined : await runByIdempotencyKey(ctx.db, client, threadId, key);
  if (earlier !== undefined) {
    const call = {
      kind: "continue" as const,
      update: options.update,
      asNode: options.asNode,
      checkpointId: options.checkpointId,
      config: runConfig,
    };
    return {
      runId: firstCallOfKey(threadId, key as string, earlier, call, "Nothing was written.").id,
      job: null,
    };
  }
  const plain = options.update === undefined && options.asNode === undefined;
  const from = options.checkpointId;
  const fork = from === undefined ? undefined : await forkPoint(ctx, thread, from, plain);
  if (fork?.older !== true) await refuseWaiting(ctx, client, threadId);
  await refuseBusy(ctx, client, thread);
  const checkpointId = fork?.older ? fork.checkpointId : await continuedFrom(ctx, thread, plain);
  // The fork plans afresh: what the thread waited for belongs to the branch it leaves.
  if (fork?.older) await supersedeInterrupts(ctx.db, client, threadId, id);
  await insertRun(ctx.db, client, {
    id,
    thread_id: threadId,
    graph_id: thread.graph_id,
    kind: "resume",
    input: continueInput(options, runConfig),
    idempotency_key: key ?? null,
    checkpoint_id: checkpointId,
  });
  await setThreadState(ctx.db, client, threadId, { status: "busy", currentRunId: id });
  return { runId: id, job: { threadId, runId: id, checkpointId } };
}

/** Refuses to continue past questions the thread waits for: they take threads.resume. */
async function refuseWaiting(ctx: ClientContext, client: Queryable, threadId: string): Promise<void> {
  const pending = await threadInterrupts(ctx.db, client, threadId, "pending");
  if (pending.length > 0)
    throw new InvalidInputError(
      `Thread "${threadId}" waits for answers to interrupt(s) ${pending.map((p) => p.id).join(", ")}: ` +
        "answer them with threads.resume(threadId, value), or go back to an older checkpoint (threads.continue(threadId, { checkpointId })).",
    );
}

/** A continue's run input: a fork when given a checkpoint (its own key: see RunInput), else past the head's breakpoint. */
function continueInput(options: ContinueOptions, runConfig: RunConfig | undefined): RunInput {
  const { update, asNode, checkpointId } = options;
  const rest = {
    ...(update === undefined ? {} : { update }),
    ...(runConfig === undefined ? {} : { config: runConfig }),
  };
  if (checkpointId !== undefined)
    return { fork: { checkpointId, ...(asNode === undefined ? {} : { asNode }) }, ...rest };
  return asNode === undefined ? { continue: true, ...rest } : { asNode, ...rest };
}
