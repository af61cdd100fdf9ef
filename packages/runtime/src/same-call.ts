import { isDeepStrictEqual } from "node:util";
import { type CallPart, IdempotencyKeyReusedError } from "./errors.ts";
import type { RunRow } from "./sql/runs.ts";

/**
 * Whether `given` (a caller's value) is `stored` (as Postgres's jsonb gave it back): compared as
 * the JSON it was sent as, so key order, a Date and its ISO string, a property left undefined
 * and one left out are all the same call.
 */
function sameJson(stored: unknown, given: unknown): boolean {
  const sent = given === undefined ? undefined : JSON.parse(JSON.stringify(given));
  return isDeepStrictEqual(stored, sent);
}

/** A config or run options: none given is none stored, an empty object. */
function sameOptions(stored: unknown, given: unknown): boolean {
  return sameJson(stored ?? {}, given ?? {});
}

/** A start as its caller gave it: what a retry with its key must repeat. */
export interface StartCall {
  graphId: string;
  input: unknown;
  config?: unknown;
}

/**
 * A resume as its caller gave it: `answer` is the value (for the thread's one question) or the
 * `{ [interruptId]: value }` map; `config`, the run options it set.
 */
export interface ResumeCall {
  answer: unknown;
  update?: unknown;
  config?: unknown;
}

/** A continue as its caller gave it: the update, the node it counts as, the checkpoint it goes on from, the run options. */
export interface ContinueCall {
  update?: unknown;
  asNode?: string | undefined;
  checkpointId?: string | undefined;
  config?: unknown;
}

type Stored = {
  input?: unknown;
  config?: unknown;
  resume?: Record<string, unknown>;
  update?: unknown;
  continue?: true;
  asNode?: string;
  fork?: { checkpointId: string; asNode?: string };
};

/** A run's kind as its caller asked for it: a resume's run records a continue too. */
function callKind(run: RunRow): "start" | "resume" | "continue" {
  const stored = run.input as Stored;
  return run.kind === "resume" &&
    (stored.continue === true || stored.asNode !== undefined || stored.fork !== undefined)
    ? "continue"
    : run.kind;
}

function continueDiffers(stored: Stored, call: ContinueCall): CallPart[] {
  const parts: CallPart[] = [];
  if (!sameJson(stored.update, call.update)) parts.push("update");
  if ((stored.fork?.asNode ?? stored.asNode) !== call.asNode) parts.push("asNode");
  if (stored.fork?.checkpointId !== call.checkpointId) parts.push("checkpointId");
  if (!sameOptions(stored.config, call.config)) parts.push("options");
  return parts;
}

function startDiffers(stored: Stored, run: RunRow, call: StartCall): CallPart[] {
  const parts: CallPart[] = [];
  if (run.graph_id !== call.graphId) parts.push("graphId");
  if (!sameJson(stored.input, call.input)) parts.push("input");
  if (!sameOptions(stored.config, call.config)) parts.push("config");
  return parts;
}

function resumeDiffers(stored: Stored, call: ResumeCall): CallPart[] {
  const answers = stored.resume ?? {};
  const ids = Object.keys(answers);
  // The map as given, or the one value given for the thread's single question.
  const sameAnswer =
    sameJson(answers, call.answer) || (ids.length === 1 && sameJson(answers[ids[0] as string], call.answer));
  const parts: CallPart[] = [];
  if (!sameAnswer) parts.push("answer");
  if (!sameJson(stored.update, call.update)) parts.push("update");
  if (!sameOptions(stored.config, call.config)) parts.push("options");
  return parts;
}

/**
 * The run an idempotency key found, when `call` repeats the call that recorded it; otherwise
 * IdempotencyKeyReusedError naming what differs (the kind of call, or its arguments).
 */
export function firstCallOfKey(
  threadId: string,
  key: string,
  run: RunRow,
  call:
    | ({ kind: "start" } & StartCall)
    | ({ kind: "resume" } & ResumeCall)
    | ({ kind: "continue" } & ContinueCall),
  nothing: string,
): RunRow {
  const stored = run.input as Stored;
  const kind = callKind(run);
  const differs: CallPart[] =
    kind !== call.kind
      ? ["kind"]
      : call.kind === "start"
        ? startDiffers(stored, run, call)
        : call.kind === "resume"
          ? resumeDiffers(stored, call)
          : continueDiffers(stored, call);
  if (differs.length === 0) return run;
  throw new IdempotencyKeyReusedError({
    threadId,
    key,
    run: { id: run.id, kind },
    asked: call.kind,
    differs,
    nothing,
  });
}
