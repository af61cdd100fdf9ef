import { InvalidInputError, type Pause, resumeIssues, timeoutRejection } from "@layover/graph";
import { jsonbProblem, type NewInterrupt, type RunRow } from "@layover/runtime";
import type { ServedGraph, WorkerContext } from "./context.ts";
import { notStorable } from "./job-end.ts";

/**
 * The interrupts of a parking run as rows: which task and node asked (from the step's outcome),
 * and the deadline's timeout — the interrupt's own, else the graph's, else the worker's default.
 */
export function interruptRows(
  ctx: WorkerContext,
  served: ServedGraph,
  run: RunRow,
  outcome: Pause,
): NewInterrupt[] {
  const owner = new Map<string, { taskId: string; node: string }>();
  for (const task of outcome.waiting) {
    for (const i of task.interrupts) owner.set(i.id, { taskId: task.id, node: task.name });
  }
  return outcome.interrupts.map((interrupt) => {
    const { id, value, ...options } = interrupt;
    const onTimeout = options.onTimeout ?? served.onTimeout;
    return {
      thread_id: run.thread_id,
      id,
      run_id: run.id,
      graph_id: run.graph_id,
      task_id: owner.get(id)?.taskId ?? "",
      node: owner.get(id)?.node ?? "",
      checkpoint_id: outcome.checkpointId,
      value: value ?? null,
      options: { ...options, ...(onTimeout !== undefined ? { onTimeout } : {}) },
      timeout_ms: options.timeoutMs ?? served.timeoutMs ?? ctx.defaultTimeoutMs,
    };
  });
}

/**
 * Why the interrupts cannot park, as the error their run fails with, if they cannot: the
 * runtime's tables cannot hold them (a NUL character, half a surrogate pair), or one with a
 * deadline and a schema would be answered, when nobody answers, with a value its schema refuses
 * (the default timeout rejection, or its or its graph's onTimeout): its node would fail at the
 * deadline on that answer, with the question expired and nobody able to answer it.
 */
export function parkRefusal(interrupts: readonly NewInterrupt[]): Error | undefined {
  const unstorable = jsonbProblem(
    interrupts.map(({ value, options }) => ({ value, options })),
    "An interrupt's value",
  );
  if (unstorable !== undefined) return notStorable(unstorable);
  for (const row of interrupts) {
    if (row.timeout_ms === null || row.options.resumeSchema === undefined) continue;
    const given = row.options.onTimeout !== undefined;
    const answer = given ? row.options.onTimeout : timeoutRejection(new Date());
    const { texts, redacted } = resumeIssues({ id: row.id, value: row.value, ...row.options }, answer);
    if (texts.length === 0) continue;
    const message = (issues: string[]) =>
      `Interrupt "${row.id}" of node "${row.node}" waits at most ${row.timeout_ms} ms, and ${given ? "its onTimeout" : 'the timeout rejection ({ action: "reject", reason: "timeout", timedOutAt })'} does not fit its schema (${issues.join("; ")}): ` +
      "at the deadline its node would fail on that answer and nobody could answer it. Give interrupt() (or the graph's entry) an onTimeout the schema takes, or a schema that takes the timeout rejection (isTimeoutRejection).";
    return new InvalidInputError(message(texts), texts, message(redacted));
  }
  return undefined;
}
