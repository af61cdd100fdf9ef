import { randomUUID } from "node:crypto";
import { jsonbProblem } from "@layover/checkpoint";
import { compiledJsonSchema, InvalidInputError, issueTexts } from "@layover/graph";
import { ThreadBusyError, threadOfAnotherGraph, UnknownGraphError } from "../errors.ts";
import { checkKey, isStorableId } from "../keys.ts";
import { firstCallOfKey } from "../same-call.ts";
import { type GraphRow, getGraph, listGraphIds } from "../sql/graphs.ts";
import { getRun, type RunConfig } from "../sql/runs.ts";
import type { ThreadStatus } from "../sql/threads.ts";
import { derivedUuid } from "../uuid.ts";
import { type ClientContext, dispatchRecorded, expecting } from "./context.ts";
import { knownKeys } from "./object-arg.ts";
import { checkBreakpointNodes, checkConfig } from "./run-config.ts";

export interface StartRunArgs {
  graphId: string;
  /** The graph's input: its state's keys (a StateGraph), or any JSON value (an entrypoint). */
  input: unknown;
  /**
   * @defaultValue a new random thread id; with an idempotencyKey, one derived from it and the
   * graph id, so a retry that names no thread either finds the first call's run
   */
  threadId?: string;
  config?: RunConfig;
  /**
   * What to do when the thread is running or waiting for a person.
   * @defaultValue "reject" — ThreadBusyError; "enqueue" runs after the current run ends.
   */
  multitaskStrategy?: "reject" | "enqueue";
  /**
   * A retried call with the same key (and the same graph, input and config) returns the first
   * call's run; the key given with other arguments is refused (IdempotencyKeyReusedError). Kept
   * per thread, as a resume's are: a key a resume of the thread used is refused.
   */
  idempotencyKey?: string;
}

/**
 * How long a graph's registration (its input schema) is reused before it is read again: a worker
 * deployed with a changed state schema is seen by producers within this time. Unknown graph ids
 * are never cached, so a graph registered a moment ago is found at once.
 */
const GRAPH_CACHE_MS = 5_000;

export async function registeredGraph(ctx: ClientContext, graphId: string): Promise<GraphRow | undefined> {
  if (!isStorableId(graphId)) return undefined;
  const cached = ctx.graphs.get(graphId);
  if (cached !== undefined && Date.now() - cached.readAt < GRAPH_CACHE_MS) return cached.row;
  const row = await getGraph(ctx.db, ctx.db.pool, graphId);
  if (row === undefined) ctx.graphs.delete(graphId);
  else ctx.graphs.set(graphId, { row, readAt: Date.now() });
  return row;
}

/**
 * Refuses state values that do not fit the graph's schema as its workers registered it: a start's
 * input the input schema, an update (a resume's or a continue's) the state's — any key a node may
 * write; an entrypoint takes no update. `what` names them in the error. An unknown graph is
 * UnknownGraphError.
 */
export async function checkStateValues(
  ctx: ClientContext,
  graphId: string,
  values: unknown,
  what: string,
  as: "input" | "update" = "input",
): Promise<void> {
  const graph = await registeredGraph(ctx, graphId);
  if (graph === undefined) throw new UnknownGraphError(graphId, await listGraphIds(ctx.db));
  const keys = values !== null && typeof values === "object" ? Object.keys(values) : [];
  if (as === "update" && graph.options.entrypoint === true && keys.length > 0) {
    throw new InvalidInputError(
      `${what}: graph "${graphId}" is an entrypoint (the functional API), whose state is one value, not keys to update (${keys.join(", ")}). Nothing was written.`,
    );
  }
  const schema = as === "update" ? (graph.options.stateSchema ?? graph.input_schema) : graph.input_schema;
  const validator = compiledJsonSchema(schema);
  const result = validator.safeParse(values);
  if (!result.success) {
    const { texts, redacted } = issueTexts(validator, result.error.issues);
    const message = (issues: string[]) =>
      `${what} does not fit the graph's state schema: ${issues.join("; ")}. Nothing was written.`;
    throw new InvalidInputError(message(texts), texts, message(redacted));
  }
}

const STRATEGIES: ReadonlySet<unknown> = new Set(["reject", "enqueue"]);

const START_KEYS = [
  "graphId",
  "input",
  "threadId",
  "config",
  "multitaskStrategy",
  "idempotencyKey",
] as const satisfies readonly (keyof StartRunArgs)[];

/** Refuses an unknown graph, input that does not fit its state schema, or a config or strategy it cannot run. */
export async function checkInput(ctx: ClientContext, args: StartRunArgs): Promise<void> {
  checkKey(args.threadId, "threadId", "for a new thread");
  checkKey(args.idempotencyKey, "idempotencyKey", "(each call then starts a run)");
  checkConfig(args.config);
  if (args.multitaskStrategy !== undefined && !STRATEGIES.has(args.multitaskStrategy)) {
    throw new InvalidInputError(
      `multitaskStrategy must be "reject" or "enqueue"; got ${JSON.stringify(args.multitaskStrategy)}. Nothing was written.`,
    );
  }
  if (args.input === null || args.input === undefined)
    throw new InvalidInputError(
      `The input of a "${args.graphId}" run is ${String(args.input)}: a run starts from an input (LangGraph's invoke(null) continues a thread instead; threads.continue(threadId) does that here). Nothing was written.`,
    );
  const nul = jsonbProblem(args.input, `The input of a "${args.graphId}" run`);
  if (nul !== undefined) throw new InvalidInputError(`${nul} Nothing was written.`);
  await checkStateValues(ctx, args.graphId, args.input, `The input of a "${args.graphId}" run`);
  checkBreakpointNodes(args.config, args.graphId, (await registeredGraph(ctx, args.graphId))?.options.nodes);
}

/** Records a run (and its thread) in Postgres in one statement, then enqueues its first job. */
export async function startRun(
  ctx: ClientContext,
  args: StartRunArgs,
): Promise<{ runId: string; threadId: string }> {
  knownKeys(args, START_KEYS, "runs.start's argument", "Nothing was written.");
  await checkInput(ctx, args);
  const threadId =
    args.threadId ??
    (args.idempotencyKey === undefined
      ? randomUUID()
      : derivedUuid("thread of key", args.graphId, args.idempotencyKey));
  const input = { input: args.input, ...(args.config ? { config: args.config } : {}) };
  const newRunId = randomUUID();
  const { started } = await expecting(ctx, newRunId, threadId, async () => {
    const { rows } = await ctx.db.pool.query<{
      outcome: "started" | "queued" | "existing" | "busy" | "wrong_graph";
      run_id: string;
      thread_status: ThreadStatus;
      thread_graph: string;
    }>(
      ctx.db.prepared("start_run", `SELECT * FROM ${ctx.db.table("start_run")}($1, $2, $3, $4, $5, $6)`, [
        threadId,
        args.graphId,
        newRunId,
        JSON.stringify(input),
        args.idempotencyKey ?? null,
        args.multitaskStrategy === "enqueue",
      ]),
    );
    const started = rows[0] as NonNullable<(typeof rows)[0]>;
    // A refused start recorded nothing: its id is not a run's.
    const recorded = started.outcome === "busy" || started.outcome === "wrong_graph" ? "" : started.run_id;
    return { runId: recorded, started };
  });
  switch (started.outcome) {
    case "wrong_graph":
      throw threadOfAnotherGraph(threadId, started.thread_graph, args.graphId);
    case "busy":
      throw new ThreadBusyError(threadId, started.thread_status);
    case "started":
      await dispatchRecorded(ctx, { threadId, runId: started.run_id, checkpointId: null });
      break;
    case "existing": {
      // A retry repeats its first call; a key given to another call is refused.
      const run = await getRun(ctx.db, ctx.db.pool, started.run_id);
      const call = { kind: "start" as const, graphId: args.graphId, input: args.input, config: args.config };
      if (run !== undefined)
        firstCallOfKey(threadId, args.idempotencyKey as string, run, call, "Nothing was written.");
      break;
    }
    case "queued":
      break;
  }
  return { runId: started.run_id, threadId };
}
