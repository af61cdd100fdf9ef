/**
 * Layover's error base. Every error a caller may branch on carries a stable `code`;
 * guards compare `code` (not `instanceof`), so errors survive crossing package copies
 * and process boundaries (a code read back from a job's failure reason still matches).
 */
export class LayoverError<C extends string = string> extends Error {
  readonly code: C;
  /**
   * The message without the user's data it quotes (a record's keys in a schema issue's path),
   * for logs that redact payloads; undefined when the message quotes none.
   */
  readonly redactedMessage: string | undefined;
  constructor(code: C, message: string, options?: { cause?: unknown; redactedMessage?: string | undefined }) {
    super(message, options !== undefined && "cause" in options ? { cause: options.cause } : undefined);
    this.code = code;
    this.name = new.target.name;
    this.redactedMessage = options?.redactedMessage;
  }
}

/** Marks Layover's own errors, whichever copy of this package made them (a global symbol). */
const OWN = Symbol.for("@layover/error");
Object.defineProperty(LayoverError.prototype, OWN, { value: true });

/**
 * True when `error` is one of Layover's own errors (an instance of LayoverError from any copy of
 * this package in the process), not any error that carries a code: a socket's ECONNRESET, a
 * driver's SQLSTATE.
 */
export function isOwnLayoverError(error: unknown): error is LayoverError {
  return typeof error === "object" && error !== null && (error as { [OWN]?: unknown })[OWN] === true;
}

/** True when `error` is a Layover error with the given code (or any code when omitted). */
export function isLayoverError<C extends string>(error: unknown, code?: C): error is LayoverError<C> {
  if (typeof error !== "object" || error === null) return false;
  const candidate = error as { code?: unknown; name?: unknown };
  if (typeof candidate.code !== "string") return false;
  return code === undefined ? true : candidate.code === code;
}

export type CheckpointErrorCode = "CHECKPOINT_CONFLICT" | "NOT_SERIALIZABLE" | "INVALID_CHECKPOINT_QUERY";

/**
 * A put whose parent is no longer the thread's head: another process committed first.
 * Nothing was written; the caller should discard its result (the superstep it computed
 * was already committed by someone else).
 */
export class CheckpointConflictError extends LayoverError<"CHECKPOINT_CONFLICT"> {
  readonly threadId: string;
  readonly expectedHead: string | null;
  readonly actualHead: string | null;
  constructor(args: {
    threadId: string;
    ns: string;
    expectedHead: string | null;
    actualHead: string | null;
  }) {
    const where =
      args.ns === "" ? `thread "${args.threadId}"` : `thread "${args.threadId}" (ns "${args.ns}")`;
    super(
      "CHECKPOINT_CONFLICT",
      `Checkpoint conflict on ${where}: expected head ${args.expectedHead ?? "<none>"} but the head is ` +
        `${args.actualHead ?? "<none>"}. Another process committed first; reload the thread and retry from its head.`,
    );
    this.threadId = args.threadId;
    this.expectedHead = args.expectedHead;
    this.actualHead = args.actualHead;
  }
}

/** A value that cannot be stored: says where it is and what to do. */
export class NotSerializableError extends LayoverError<"NOT_SERIALIZABLE"> {
  readonly path: string;
  /** `redactedMessage`: without the path (its keys may be the user's data: an email, an id), for logs. */
  constructor(path: string, message: string, redactedMessage?: string) {
    super("NOT_SERIALIZABLE", message, { redactedMessage });
    this.path = path;
  }
}

export function isCheckpointConflict(error: unknown): error is CheckpointConflictError {
  return isLayoverError(error, "CHECKPOINT_CONFLICT");
}
