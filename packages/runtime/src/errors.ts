import { LayoverError } from "@layover/checkpoint";
import { InvalidInputError } from "@layover/graph";

export type RuntimeErrorCode =
  | "UNKNOWN_GRAPH"
  | "THREAD_BUSY"
  | "THREAD_NOT_FOUND"
  | "RUN_NOT_FOUND"
  | "INTERRUPT_ALREADY_RESOLVED"
  | "WAIT_TIMEOUT"
  | "INVALID_CONFIG"
  | "POSTGRES_UNAVAILABLE"
  | "IDEMPOTENCY_KEY_REUSED"
  | "CLIENT_CLOSED";

class RuntimeError<C extends RuntimeErrorCode> extends LayoverError<C> {}

/** A run for a graph id that no worker has registered. Nothing was written. */
export class UnknownGraphError extends RuntimeError<"UNKNOWN_GRAPH"> {
  readonly graphId: string;
  constructor(graphId: string, known: readonly string[]) {
    super(
      "UNKNOWN_GRAPH",
      `No graph "${graphId}" is registered. Known graphs: ${known.length ? known.join(", ") : "none"}. ` +
        "A worker registers its graphs when it starts: check the id, or start a worker that serves it.",
    );
    this.graphId = graphId;
  }
}

/** A start on a thread that is running or waiting for a person, with multitaskStrategy "reject". */
export class ThreadBusyError extends RuntimeError<"THREAD_BUSY"> {
  readonly threadId: string;
  readonly status: string;
  constructor(threadId: string, status: string, message?: string) {
    super(
      "THREAD_BUSY",
      message ??
        `Thread "${threadId}" is ${status}: a new run was refused (multitaskStrategy "reject"). ` +
          'Wait for it, resume its interrupts, or start with multitaskStrategy "enqueue" to run after it.',
    );
    this.threadId = threadId;
    this.status = status;
  }
}

export class ThreadNotFoundError extends RuntimeError<"THREAD_NOT_FOUND"> {
  readonly threadId: string;
  constructor(threadId: string) {
    super(
      "THREAD_NOT_FOUND",
      `No thread "${threadId}". Start one with client.runs.start({ graphId, input }).`,
    );
    this.threadId = threadId;
  }
}

export class RunNotFoundError extends RuntimeError<"RUN_NOT_FOUND"> {
  readonly runId: string;
  constructor(runId: string) {
    super("RUN_NOT_FOUND", `No run "${runId}".`);
    this.runId = runId;
  }
}

/** Someone (a person, or the timeout sweep) resolved the interrupt first. Nothing was changed. */
export class InterruptAlreadyResolvedError extends RuntimeError<"INTERRUPT_ALREADY_RESOLVED"> {
  readonly threadId: string;
  readonly interruptId: string;
  readonly status: string;
  readonly resolvedBy: string | null;
  readonly resolvedAt: Date | null;
  constructor(args: {
    threadId: string;
    interruptId: string;
    status: string;
    resolvedBy: string | null;
    resolvedAt: Date | null;
  }) {
    const how =
      args.status === "expired"
        ? "expired by timeout"
        : args.status === "cancelled"
          ? `cancelled (${args.resolvedBy ?? "its run was cancelled"})`
          : `${args.status} by ${args.resolvedBy ?? "someone"}`;
    // Only a question withdrawn while the thread waits for others is reported so (see resume.ts).
    const instead =
      args.status === "cancelled"
        ? `; the thread waits for other questions now (interrupts.list({ threadId, status: "pending" }))`
        : "";
    super(
      "INTERRUPT_ALREADY_RESOLVED",
      `Interrupt "${args.interruptId}" of thread "${args.threadId}" was already ${how}` +
        `${args.resolvedAt ? ` at ${args.resolvedAt.toISOString()}` : ""}${instead}; this resume changed nothing.`,
    );
    this.threadId = args.threadId;
    this.interruptId = args.interruptId;
    this.status = args.status;
    this.resolvedBy = args.resolvedBy;
    this.resolvedAt = args.resolvedAt;
  }
}

/**
 * A call on a client after its `close()`, or a wait its `close()` ended: nothing was done by the
 * call (a run waited for goes on: another client's runs.wait gives its result).
 */
export class ClientClosedError extends RuntimeError<"CLIENT_CLOSED"> {
  constructor(call: string, inFlight = false) {
    super(
      "CLIENT_CLOSED",
      inFlight
        ? `${call}: the client was closed (client.close()) while the call was under way; what it did is unknown (a run waited for goes on: runs.wait on an open client gives its result).`
        : `${call}: this client was closed (client.close()), so nothing was done: make calls before closing it, or create another with createClient().`,
    );
  }
}

export class WaitTimeoutError extends RuntimeError<"WAIT_TIMEOUT"> {
  constructor(runId: string, timeoutMs: number) {
    super("WAIT_TIMEOUT", `Run "${runId}" did not finish or park within ${timeoutMs} ms; it is still going.`);
  }
}

/**
 * A producer's call could not reach Postgres (a restart, a failover, a lost connection) or got
 * no answer within the pool's query timeout. A call that fails to connect wrote nothing; one
 * whose connection died mid-statement may have been recorded: retry it with the same
 * `idempotencyKey` (a start or a resume then returns the run it recorded), or read first.
 */
export class PostgresUnavailableError extends RuntimeError<"POSTGRES_UNAVAILABLE"> {
  constructor(call: string, options: { cause: unknown }) {
    const detail = options.cause instanceof Error ? options.cause.message : String(options.cause);
    super(
      "POSTGRES_UNAVAILABLE",
      `${call}: Postgres is unreachable (${detail}). Retry once it is back; a start or resume retried ` +
        "with the same idempotencyKey returns the run it may have recorded.",
      options,
    );
  }
}

/** A bad option or environment variable, named. */
export class InvalidConfigError extends RuntimeError<"INVALID_CONFIG"> {
  constructor(message: string, options?: { cause?: unknown }) {
    super("INVALID_CONFIG", message, options);
  }
}

/** A part of a call that differs from the first call its idempotency key recorded. */
export type CallPart =
  | "kind"
  | "graphId"
  | "input"
  | "config"
  | "answer"
  | "update"
  | "asNode"
  | "checkpointId"
  | "options";

const PART_NAMES: Record<CallPart, string> = {
  kind: "another kind of call",
  graphId: "another graph",
  input: "another input",
  config: "another config",
  answer: "another answer",
  update: "another update",
  asNode: "another asNode",
  checkpointId: "another checkpointId",
  options: "other run options",
};

/**
 * An idempotency key given again with other arguments than its first call's (another answer to
 * the same approval, another input), or to the other kind of call (a resume given its thread's
 * start's key): returning the first call's run would pass this call off as done. `differs` names
 * the parts, never their values (they may be users' data). Nothing was written.
 */
export class IdempotencyKeyReusedError extends RuntimeError<"IDEMPOTENCY_KEY_REUSED"> {
  readonly threadId: string;
  readonly idempotencyKey: string;
  /** The run the key's first call recorded. */
  readonly runId: string;
  readonly differs: readonly CallPart[];
  constructor(args: {
    threadId: string;
    key: string;
    run: { id: string; kind: "start" | "resume" | "continue" };
    asked: "start" | "resume" | "continue";
    differs: readonly CallPart[];
    nothing: string;
  }) {
    const { threadId, key, run, asked, differs, nothing } = args;
    const first = `thread "${threadId}"'s ${run.kind} (run ${run.id})`;
    super(
      "IDEMPOTENCY_KEY_REUSED",
      differs.includes("kind")
        ? `idempotencyKey ${JSON.stringify(key)} is the key of ${first}, not of a ${asked}: give each call a key of its own. ${nothing}`
        : `idempotencyKey ${JSON.stringify(key)} was first given to ${first}, which had ${differs.map((part) => PART_NAMES[part]).join(" and ")}: ` +
            `a retry repeats its first call's arguments, and another call needs a key of its own. ${nothing}`,
    );
    this.threadId = threadId;
    this.idempotencyKey = key;
    this.runId = run.id;
    this.differs = differs;
  }
}

/** A start (or a cron's) on a thread that another graph runs. Nothing was written. */
export function threadOfAnotherGraph(
  threadId: string,
  threadGraph: string,
  graphId: string,
): InvalidInputError {
  return new InvalidInputError(
    `Thread "${threadId}" runs graph "${threadGraph}", not "${graphId}". Use a new thread id. Nothing was written.`,
  );
}
