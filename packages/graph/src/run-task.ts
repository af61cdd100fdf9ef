import { setTimeout as sleep } from "node:timers/promises";
import { isOwnLayoverError } from "@layover/checkpoint";
import type { Write } from "./algo/apply-writes.ts";
import { edgeWrites, isParentCommand, outputWrites, stateWrite } from "./algo/node-writes.ts";
import type { PlannedTask } from "./algo/plan.ts";
import { Command, isCommand } from "./command.ts";
import { inAttempt, type PushHook, type TaskContext, taskContext } from "./context.ts";
import { GraphAbortedError, InvalidUpdateError, isNodeTimeoutError } from "./errors.ts";
import type { GraphSpec, NodeConfig, NodeSpec, RetryPolicy } from "./graph/spec.ts";
import { isGraphInterrupt } from "./interrupt.ts";
import { callNode } from "./langchain.ts";
import type { MessagesStreamer } from "./messages-stream.ts";
import { runBody } from "./node-body.ts";
import { timedAttempt } from "./node-timeout.ts";
import type { TaskOutcome } from "./outcome.ts";

export type { TaskOutcome } from "./outcome.ts";

export interface TaskRun {
  spec: GraphSpec;
  task: PlannedTask;
  /** The node's input: the state (pull task) or the Send argument (push task). */
  input: unknown;
  /** Channel values and versions the task ran against (for routers' read-your-writes). */
  values: Record<string, unknown>;
  versions: Record<string, number>;
  context: TaskContext;
  config: NodeConfig;
  /** The run's "messages" listener, when it streams them: told of the node's input and output. */
  messages?: MessagesStreamer | undefined;
}

/** HTTP statuses a retry cannot fix (the request itself is wrong, or not allowed), as LangGraph's. */
const CLIENT_ERROR_STATUSES = new Set([400, 401, 402, 403, 404, 405, 406, 407, 409]);

/**
 * Which errors a retry policy without `retryOn` retries: as LangGraph.js's default, not an
 * abort or cancellation, not a client error (an HTTP 4xx status above, on the error or its
 * `response`; an exhausted quota), not a timed-out connection (ECONNABORTED); and not
 * Layover's own typed errors (an invalid update stays invalid).
 */
function defaultRetryOn(error: unknown): boolean {
  if (isNodeTimeoutError(error)) return true;
  // Layover's own, not any error with a code: a dropped connection's (ECONNRESET, 57P01) is retried.
  if (isOwnLayoverError(error)) return false;
  const e = (typeof error === "object" && error !== null ? error : {}) as {
    name?: unknown;
    message?: unknown;
    code?: unknown;
    status?: unknown;
    response?: { status?: unknown };
    error?: { code?: unknown };
  };
  const message = typeof e.message === "string" ? e.message : "";
  if (e.name === "AbortError" || message.startsWith("Cancel") || message.startsWith("AbortError"))
    return false;
  if (e.code === "ECONNABORTED" || e.error?.code === "insufficient_quota") return false;
  const status = Number(e.response?.status ?? e.status);
  return !CLIENT_ERROR_STATUSES.has(status);
}

function backoff(policy: RetryPolicy, attempt: number): number {
  const base = (policy.initialInterval ?? 500) * (policy.backoffFactor ?? 2) ** (attempt - 1);
  const capped = Math.min(base, policy.maxInterval ?? 128_000);
  return policy.jitter === false ? capped : capped * (0.75 + Math.random() * 0.5);
}

/** A node's messages' metadata in "messages", as LangGraph's: its config's, tagged with the superstep. */
function nodeMeta(config: NodeConfig): Record<string, unknown> {
  const tags = [...config.tags, `graph:step:${config.metadata.langgraph_step}`];
  return { tags, name: config.metadata.langgraph_node, ls_integration: "langgraph", ...config.metadata };
}

/** What pushMessage writes: the message, as one of the node's writes to `stateKey`, checked as they are. */
function pushedWrite(spec: GraphSpec, node: string, stateKey: string, message: object): Write {
  if (!spec.channels.has(stateKey))
    throw new InvalidUpdateError(
      `pushMessage in node "${node}" writes to state key "${stateKey}", which is not in the state of graph "${spec.name}". ` +
        `Give a messages key of the state as stateKey (state keys: ${spec.stateKeys.join(", ")}), or stateKey: null to only stream it.`,
    );
  return stateWrite(spec, node, stateKey, message, false) as Write;
}

/** pushMessage's hook for one attempt of `run`'s node: streams the message, and keeps its write in `pushed`. */
function pushHook(run: TaskRun, pushed: Write[]): PushHook {
  const { spec, task, config } = run;
  return {
    open: true,
    push(message, stateKey) {
      if (stateKey !== undefined) pushed.push(pushedWrite(spec, task.name, stateKey, message));
      run.messages?.pushed(nodeMeta(config), message);
    },
  };
}

async function attemptIn(run: TaskRun, node: NodeSpec, context: TaskContext): Promise<TaskOutcome> {
  const { spec, task, config } = run;
  let output: unknown;
  const pushed: Write[] = [];
  // An entrypoint's state is what it returns: pushMessage is refused there.
  const hook = spec.root === undefined ? pushHook(run, pushed) : undefined;
  try {
    run.messages?.nodeStart(run.input);
    const body = (given: NodeConfig, own: TaskContext) =>
      runBody(own, hook, () => callNode(given, run.input, (config) => node.run(run.input, config)));
    // A subgraph's task is progress of the timed node that runs the subgraph.
    context.progress?.();
    // A Send's own timeout, else the node's.
    const timeout = task.timeout ?? node.timeout;
    output =
      timeout === undefined
        ? await body(config, context)
        : await timedAttempt(timeout, { node: task.name, base: config, context }, body);
    context.progress?.();
    run.messages?.nodeEnd(nodeMeta(config), output);
  } catch (error) {
    if (!isParentCommand(error)) throw error;
    // A subgraph node routed in this graph: treat it as this node's own Command.
    output = new Command({ update: error.command.update, goto: error.command.goto });
  }
  if (context.ns === "") refuseParentCommandAtRoot(spec, task.name, output);
  const writes = [...pushed, ...outputWrites(spec, task.name, output, node.isSubgraph)];
  const routed = await taskContext.run(context, () =>
    edgeWrites(spec, task.name, run.values, run.versions, writes, config),
  );
  writes.push(...routed);
  return { kind: "done", writes, output };
}

/**
 * Refuses a Command for the parent graph from a node of a graph that runs as the root: there is
 * no parent to take it (LangGraph ends the run there without a word, the handoff dropped).
 */
function refuseParentCommandAtRoot(spec: GraphSpec, node: string, output: unknown): void {
  const forParent = (item: unknown) => isCommand(item) && item.graph === Command.PARENT;
  if (!(Array.isArray(output) ? output.some(forParent) : forParent(output))) return;
  throw new InvalidUpdateError(
    `Node "${node}" returned a Command for the parent graph (graph: Command.PARENT), but graph "${spec.name}" runs as the root graph: it has no parent to take it. ` +
      "Run it as a subgraph of the graph it hands off to, or return a Command for this graph.",
  );
}

/** Runs one task to an outcome: its writes, its interrupts, or its error after the retry policy gave up. */
export function runTask(run: TaskRun): Promise<TaskOutcome> {
  const node = run.spec.nodes.get(run.task.name) as NodeSpec;
  return withRetries(node.retryPolicy, run.context.signal, (attemptNo) =>
    inAttempt(run.context, node.retryPolicy !== undefined, attemptNo, (own) => attemptIn(run, node, own)),
  );
}

/**
 * Runs `attemptOnce` to an outcome: an interrupt ends it, a failure is retried as `policy` says.
 * No policy: one attempt; a policy retries up to its maxAttempts, 3 unless it says (as LangGraph).
 */
export async function withRetries(
  policy: RetryPolicy | undefined,
  signal: AbortSignal | undefined,
  attemptOnce: (attemptNo: number) => Promise<TaskOutcome>,
): Promise<TaskOutcome> {
  const maxAttempts = policy === undefined ? 1 : Math.max(1, policy.maxAttempts ?? 3);
  for (let attemptNo = 1; ; attemptNo++) {
    try {
      return await attemptOnce(attemptNo);
    } catch (error) {
      if (isGraphInterrupt(error)) return { kind: "interrupted", interrupts: error.interrupts };
      // A Command for the parent graph is routing, not a failure: never retried.
      if (isParentCommand(error)) return { kind: "failed", error };
      const retryOn = policy?.retryOn ?? defaultRetryOn;
      if (policy === undefined || attemptNo >= maxAttempts || !retryOn(error))
        return { kind: "failed", error };
      try {
        await sleep(backoff(policy, attemptNo), undefined, signal ? { signal } : undefined);
      } catch {
        return { kind: "failed", error: new GraphAbortedError(signal?.reason) };
      }
    }
  }
}
