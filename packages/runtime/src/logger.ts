import pino, { type DestinationStream, type Logger } from "pino";

/**
 * Paths that hold users' data (graph state, inputs, interrupt values, resume answers):
 * redacted unless LAYOVER_LOG_PAYLOADS=true.
 */
export const PAYLOAD_PATHS = [
  "input",
  "values",
  "value",
  "resume",
  "update",
  "state",
  "*.input",
  "*.values",
  "*.value",
  "*.resume",
  "*.update",
  "*.state",
];

/**
 * An error as logs show it when payloads are redacted: its type, message, code and stack, and
 * its cause the same way; the message without the user's data a Layover error quotes
 * (`redactedMessage`: a record's keys in a schema issue). Other fields are left out: a driver's error can quote the data it
 * refused (Postgres's `where` and `detail` quote the JSON it could not store).
 */
export function redactedError(error: unknown, depth = 0): unknown {
  // A thrown string is a message; anything else thrown that is not an Error (`throw { card }`,
  // a rejected promise's object) may be the user's data itself: only its kind is logged.
  if (typeof error === "string") return { type: "string", message: error };
  if (!(error instanceof Error)) {
    const kind =
      error === null
        ? "null"
        : typeof error === "object"
          ? (error.constructor?.name ?? "Object")
          : typeof error;
    return {
      type: kind,
      message: `[redacted] a thrown ${kind} that is not an Error (LAYOVER_LOG_PAYLOADS=true logs it)`,
    };
  }
  const { code, cause, redactedMessage } = error as Error & { code?: unknown; redactedMessage?: unknown };
  // A Layover error quoting the user's data (a record key in a schema issue) has a version without it.
  const message = typeof redactedMessage === "string" ? redactedMessage : error.message;
  const stack =
    message === error.message || error.message === ""
      ? error.stack
      : error.stack?.replace(error.message, () => message);
  return {
    type: error.name,
    message,
    // A code is a name (ECONNREFUSED, 23505); anything else under the name may be the user's data.
    ...(typeof code === "string" || typeof code === "number" ? { code } : {}),
    stack,
    ...(cause === undefined || depth > 3 ? {} : { cause: redactedError(cause, depth + 1) }),
  };
}

/** The pino logger every Layover service logs with: JSON, users' payloads redacted by default. */
export function createLogger(
  options: { level: string; logPayloads: boolean; name: string },
  destination?: DestinationStream,
): Logger {
  const redaction = options.logPayloads
    ? {}
    : { redact: { paths: PAYLOAD_PATHS, censor: "[redacted]" }, serializers: { err: redactedError } };
  return pino({ name: options.name, level: options.level, ...redaction }, destination);
}
