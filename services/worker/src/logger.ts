import pino, { type Logger } from "pino";

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

export function createLogger(options: { level: string; logPayloads: boolean; name: string }): Logger {
  return pino({
    name: options.name,
    level: options.level,
    ...(options.logPayloads ? {} : { redact: { paths: PAYLOAD_PATHS, censor: "[redacted]" } }),
  });
}
