/**
 * What `interrupt()` returns when nobody answered in time and the interrupt gave no
 * `onTimeout` value (neither did its graph): a rejection, so the node's reject branch runs
 * exactly as if a person had rejected.
 */
export interface TimeoutRejection {
  action: "reject";
  reason: "timeout";
  /** ISO-8601 time the interrupt's deadline passed. */
  timedOutAt: string;
}

export function timeoutRejection(timedOutAt: Date): TimeoutRejection {
  return { action: "reject", reason: "timeout", timedOutAt: timedOutAt.toISOString() };
}

/** True for the default value a timed-out interrupt resumes with. */
export function isTimeoutRejection(value: unknown): value is TimeoutRejection {
  if (typeof value !== "object" || value === null) return false;
  const candidate = value as Record<string, unknown>;
  return (
    candidate.action === "reject" &&
    candidate.reason === "timeout" &&
    typeof candidate.timedOutAt === "string"
  );
}
