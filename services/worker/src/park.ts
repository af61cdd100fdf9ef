import { InvalidInputError, type Pause, resumeIssues, timeoutRejection } from "@layover/graph";
import { jsonbIssue, type NewInterrupt, type RunRow } from "@layover/runtime";
import type { ServedGraph, WorkerContext } from "./context.ts";
import { notStorable } from "./job-end.ts";

/** Graphs and nodes told of already (see defaultTimeout): once per process each, not per park. */
const warnedNoDefault = new Set<string>();

/**
 * The worker's default timeout (INTERRUPT_TIMEOUT_MS) for an interrupt that has none of its own
 * or its graph's: none for a question whose schema refuses what the timeout would answer (an
 * operator's safety net must not fail a graph's approval gates; their author gives them an
 * onTimeout, or a timeout of their own, which park checks), said once at warn.
 */
function defaultTimeout(ctx: WorkerContext, row: NewInterrupt): number | null {
  if (ctx.defaultTimeoutMs === null || timeoutAnswerIssues(row).texts.length === 0)
    return ctx.defaultTimeoutMs;
  const key = `${row.graph_id}\u0000${row.node}`;
  if (!warnedNoDefault.has(key)) {
    warnedNoDefault.add(key);
    ctx.logger.warn(
      {
        graphId: row.graph_id,
        node: row.node,
        interruptId: row.id,
        threadId: row.thread_id,
        runId: row.run_id,
      },
      "the worker's default interrupt timeout is not applied to this question: its schema refuses the timeout rejection; give interrupt() an onTimeout its schema takes",
    );
  }
  return null;
}

/**
 * The interrupts of a parking run as rows: which task and node asked (from the step's outcome),
 * and the deadline's timeout — the interrupt's own, else the graph's, else the worker's default
 * (see defaultTimeout).
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
    const row: NewInterrupt = {
      thread_id: run.thread_id,
      id,
      run_id: run.id,
      graph_id: run.graph_id,
      task_id: owner.get(id)?.taskId ?? "",
      node: owner.get(id)?.node ?? "",
      checkpoint_id: outcome.checkpointId,
      value: value ?? null,
      options: { ...options, ...(onTimeout !== undefined ? { onTimeout } : {}) },
      timeout_ms: options.timeoutMs ?? served.timeoutMs ?? null,
    };
    return row.timeout_ms === null ? { ...row, timeout_ms: defaultTimeout(ctx, row) } : row;
  });
}

/** What a question's schema says of the answer the timeout sweep would give it (its onTimeout, else the timeout rejection). */
function timeoutAnswerIssues(row: NewInterrupt) {
  if (row.options.resumeSchema === undefined) return { texts: [], redacted: [] };
  const answer = row.options.onTimeout !== undefined ? row.options.onTimeout : timeoutRejection(new Date());
  return resumeIssues({ id: row.id, value: row.value, ...row.options }, answer);
}

/**
 * Why the interrupts cannot park, as the error their run fails with, if they cannot: the
 * runtime's tables cannot hold them (a NUL character, half a surrogate pair), or one with a
 * deadline of its own or its graph's and a schema would be answered, when nobody answers, with a value its schema refuses
 * (the default timeout rejection, or its or its graph's onTimeout): its node would fail at the
 * deadline on that answer, with the question expired and nobody able to answer it.
 */
export function parkRefusal(interrupts: readonly NewInterrupt[]): Error | undefined {
  const unstorable = jsonbIssue(
    interrupts.map(({ value, options }) => ({ value, options })),
    "An interrupt's value",
  );
  if (unstorable !== undefined) return notStorable(unstorable.message, unstorable.redactedMessage);
  for (const row of interrupts) {
    if (row.timeout_ms === null) continue;
    const given = row.options.onTimeout !== undefined;
    const { texts, redacted } = timeoutAnswerIssues(row);
    if (texts.length === 0) continue;
    const message = (issues: string[]) =>
      `Interrupt "${row.id}" of node "${row.node}" waits at most ${row.timeout_ms} ms, and ${given ? "its onTimeout" : 'the timeout rejection ({ action: "reject", reason: "timeout", timedOutAt })'} does not fit its schema (${issues.join("; ")}): ` +
      "at the deadline its node would fail on that answer and nobody could answer it. Give interrupt() (or the graph's entry) an onTimeout the schema takes, or a schema that takes the timeout rejection (isTimeoutRejection).";
    return new InvalidInputError(message(texts), texts, message(redacted));
  }
  return undefined;
}
