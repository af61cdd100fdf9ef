import { type Checkpoint, type CheckpointMetadata, newCheckpointId } from "@layover/checkpoint";
import {
  type AppliedWrites,
  appendHints,
  applyWrites,
  type ChannelState,
  maxVersion,
  type Write,
} from "./algo/apply-writes.ts";
import { edgeWrites, gotoWrites, pendingSend } from "./algo/node-writes.ts";
import { readPendingWrites, unresolvedInterrupts } from "./algo/pending.ts";
import { type PlannedTask, waitingTriggers } from "./algo/plan.ts";
import type { Command } from "./command.ts";
import { gotoList, isByInterruptId } from "./command.ts";
import { holdsAsync, TASK_SEED } from "./commit.ts";
import { INPUT_TASK_ID, NULL_RESUME, RESUME, SPECIAL_WRITE_IDX, START } from "./constants.ts";
import { breakpointPass } from "./continue-run.ts";
import {
  AmbiguousResumeError,
  InvalidInputError,
  InvalidResumeError,
  NotInterruptedError,
  UnknownInterruptError,
} from "./errors.ts";
import type { GraphSpec } from "./graph/spec.ts";
import type { LoadedHead, WriteBatch } from "./head.ts";
import { deterministicId, isInterruptIdShaped } from "./ids.ts";
import { type Interrupt, resumeIssues } from "./interrupt.ts";
import { routerConfig } from "./router-config.ts";
import type { FieldCheck, FieldSpec, StateDefinition } from "./state/definition.ts";
import { missingNodes, plannedTasks, type StepEnv } from "./step.ts";
import { saveWrites } from "./uncommitted.ts";
import { storedPut } from "./untracked.ts";

function describeType(value: unknown): string {
  return value === null ? "null" : Array.isArray(value) ? "an array" : typeof value;
}

/**
 * `value` checked by each of `fields` in turn (an input schema's, then the state's), each
 * given what the one before made of it; undefined when none checks.
 */
function checkedValue(fields: ReadonlyArray<FieldSpec | undefined>, value: unknown): FieldCheck | undefined {
  let result: FieldCheck | undefined;
  for (const field of new Set(fields)) {
    const checked = field?.check?.(result?.ok ? result.value : value);
    if (checked === undefined) continue;
    if (!checked.ok) return checked;
    result = checked;
  }
  return result;
}

/**
 * Checks input or `updateState` values against the state schema (an input against the input
 * schema first, `input`): the writes, or InvalidInputError.
 */
export function checkedStateWrites(
  spec: GraphSpec,
  values: unknown,
  what: string,
  keys: readonly string[] = spec.stateKeys,
  input?: StateDefinition,
): Write[] {
  if (typeof values !== "object" || values === null || Array.isArray(values)) {
    throw new InvalidInputError(`${what} must be an object of state keys, got ${describeType(values)}.`);
  }
  const issues: string[] = [];
  const redacted: string[] = [];
  const writes: Write[] = [];
  for (const [key, value] of Object.entries(values)) {
    const field = keys === spec.stateKeys || keys.includes(key) ? spec.state.fields.get(key) : undefined;
    if (field === undefined) {
      const kind = keys === spec.stateKeys ? "state" : "input";
      const known = `(${kind} keys: ${keys.join(", ")})`;
      issues.push(`"${key}" is not ${kind === "state" ? "a state" : "an input"} key ${known}`);
      redacted.push(`a key that is not ${kind === "state" ? "a state" : "an input"} key ${known}`);
      continue;
    }
    if (value === undefined) continue;
    const checked = checkedValue([input?.fields.get(key), field], value);
    if (checked === undefined) writes.push([key, value]);
    else if (checked.ok) writes.push([key, checked.value]);
    else {
      issues.push(...checked.issues.map((issue) => `${key}: ${issue}`));
      redacted.push(...checked.redacted.map((issue) => `${key}: ${issue}`));
    }
  }
  if (issues.length > 0) {
    const message = (listed: string[]) =>
      `${what} does not match the state schema: ${listed.join("; ")}. Nothing was written.`;
    throw new InvalidInputError(message(issues), issues, message(redacted));
  }
  return writes;
}

/**
 * The channels a run starts from when it starts over: defaults only. On a thread that already
 * has channels (a subgraph starting again in its namespace) every old channel is reset with a
 * new version, so no (channel, version) pair is ever reused for a different value.
 */
function initialChannels(
  spec: GraphSpec,
  previous: Record<string, number> = {},
  floor = 0,
): ChannelState & { changed: Set<string> } {
  const values: Record<string, unknown> = {};
  const versions: Record<string, number> = { ...previous };
  const changed = new Set<string>();
  // Reset channels take a version above any the thread has used.
  const next = Math.max(floor, maxVersion(previous)) + 1;
  for (const key of Object.keys(previous)) {
    values[key] = undefined;
    versions[key] = next;
    changed.add(key);
  }
  for (const [key, field] of spec.state.fields) {
    const value = field.initial();
    if (value === undefined) continue;
    values[key] = value;
    versions[key] = next;
    changed.add(key);
  }
  return { values, versions, changed };
}

export interface NewCheckpoint {
  source: CheckpointMetadata["source"];
  writes: Write[];
  metadataWrites: Record<string, unknown>;
  /** Tasks of the head that did not finish: planned again after the writes (see commandRun). */
  carry?: readonly PlannedTask[];
  /**
   * What the head's paused superstep finished (its finished tasks' writes applied to the head),
   * which `writes` apply on top of, as LangGraph's updateState does.
   */
  settled?: AppliedWrites;
}

/**
 * The checkpoint `applied` makes, the head's settled superstep and carried tasks planned again,
 * and its deferred nodes still waiting (`waiting`: their triggers).
 */
function checkpointOf(applied: AppliedWrites, made: NewCheckpoint, waiting: readonly string[]): Checkpoint {
  const carry = made.carry ?? [];
  return {
    v: 1,
    id: newCheckpointId(),
    ts: new Date().toISOString(),
    channelValues: applied.values,
    channelVersions: applied.versions,
    updatedChannels: [
      ...new Set([
        ...(made.settled?.available ?? []),
        ...applied.available,
        ...carry.flatMap((t) => t.triggers),
        ...waiting,
      ]),
    ],
    pendingSends: [
      ...carry
        .filter((t) => t.kind === "push" && !resent(made, applied, t))
        .map((t) => pendingSend(t.name, t.arg, t.timeout)),
      ...(made.settled?.sends ?? []),
      ...applied.sends,
    ],
  };
}

/**
 * An update whose node's routing sends to a node again replaces the paused `Send`s to it, as in
 * LangGraph (an edited tool call's Send is not run beside the original's).
 */
function resent(made: NewCheckpoint, applied: AppliedWrites, task: PlannedTask): boolean {
  return made.source === "update" && applied.sends.some((send) => send.node === task.name);
}

/** The new checkpoint's metadata: one step after `head`'s (-1 for a new thread's input). */
function metadataOf(env: StepEnv, head: LoadedHead | undefined, made: NewCheckpoint, hold: boolean) {
  return {
    ...env.metadata,
    source: made.source,
    // A new thread's input is step -1, as LangGraph's; an update that makes one is step 0, as its.
    step: head ? head.metadata.step + 1 : made.source === "input" ? -1 : 0,
    writes: made.metadataWrites,
    // Held, its id is new on every attempt: its tasks' seed is the run's.
    ...(hold ? { [TASK_SEED]: deterministicId(env.inputSeed as string, "input") } : {}),
  } satisfies CheckpointMetadata;
}

/** Commits a checkpoint made from `head` (or a new thread) by applying `writes` as one step. */
export async function commitWrites(
  env: StepEnv,
  head: LoadedHead | undefined,
  made: NewCheckpoint,
  fresh = false,
) {
  const base =
    head === undefined || fresh
      ? initialChannels(env.spec, head?.checkpoint.channelVersions, head?.versionFloor)
      : {
          values: head.checkpoint.channelValues,
          versions: head.checkpoint.channelVersions,
          changed: new Set<string>(),
        };
  const floor = head?.versionFloor ?? 0;
  const settled = made.settled;
  const applied = applyWrites(env.spec, settled ?? base, [made.writes], [], floor);
  const changedBefore = new Set([...base.changed, ...(settled?.changed ?? [])]);
  const changed = new Set([...changedBefore, ...applied.changed]);
  const waiting = head === undefined || fresh ? [] : waitingTriggers(env.spec, head.checkpoint);
  const checkpoint = checkpointOf(applied, made, waiting);
  const hold = holdsInput(env, head, fresh);
  const metadata: CheckpointMetadata = metadataOf(env, head, made, hold);
  const parentId = head?.checkpoint.id ?? null;
  const appends = appendHints(applied, changedBefore);
  const entered: LoadedHead = {
    checkpoint,
    metadata,
    parentId,
    pendingWrites: [],
    expectedHead: checkpoint.id,
    versionFloor: Math.max(floor, maxVersion(checkpoint.channelVersions)),
  };
  if (hold) {
    entered.expectedHead = head ? head.expectedHead : null;
    entered.deferred = { stored: head, changed, appends: new Map(Object.entries(appends ?? {})), chain: [] };
    return entered;
  }
  const put = { ...env.key, checkpoint, metadata, parentId, changedChannels: [...changed], appends };
  await env.saver.put(storedPut(env.spec, { ...put, expectedHead: head ? head.expectedHead : null }));
  return entered;
}

/**
 * A worker's stepper holding "async" supersteps holds a run's input checkpoint too, stored with
 * the supersteps after it, when it has the run's seed (StepperOptions.seed) and follows a stored
 * head (or none).
 */
function holdsInput(env: StepEnv, head: LoadedHead | undefined, fresh: boolean): boolean {
  return env.inputSeed !== undefined && holdsAsync(env) && !fresh && head?.deferred === undefined;
}

/** Starts a run with an input: applies it and the START edges as the input checkpoint. */
export async function startRun(
  env: StepEnv,
  head: LoadedHead | undefined,
  input: unknown,
  fresh = false,
): Promise<LoadedHead> {
  // A root graph (an entrypoint) stores its input whole.
  const root = env.spec.root;
  const given = root === undefined ? input : { [root.input]: input };
  const writes = checkedStateWrites(env.spec, given, "The input", env.spec.inputKeys, env.spec.input);
  const base =
    head && !fresh
      ? { values: head.checkpoint.channelValues, versions: head.checkpoint.channelVersions }
      : initialChannels(env.spec, head?.checkpoint.channelVersions);
  const step = head ? head.metadata.step + 1 : -1;
  writes.push(
    ...(await edgeWrites(
      env.spec,
      START,
      base.values,
      base.versions,
      writes,
      routerConfig(env, START, step),
    )),
  );
  return commitWrites(env, head, { source: "input", writes, metadataWrites: { [START]: input } }, fresh);
}

/**
 * A resume value keyed by interrupt ids, `{ [interruptId]: value, … }`: every key has an
 * interrupt id's shape (or the caller said so with byInterruptId). Keys that are other UUIDs
 * (`{ [docId]: "approve" }`) make the object one answer.
 */
function isResumeMap(value: unknown): value is Record<string, unknown> {
  if (typeof value !== "object" || value === null || Array.isArray(value)) return false;
  const keys = Object.keys(value);
  return keys.length > 0 && (isByInterruptId(value) || keys.every(isInterruptIdShaped));
}

/** Which interrupts `value` answers: each of a map's ids (all pending), or the one pending. */
function resumeTargets(value: unknown, open: readonly Interrupt[]): Map<string, unknown> {
  const openIds = open.map((record) => record.id);
  if (isResumeMap(value)) {
    const unknown = Object.keys(value).filter((id) => !openIds.includes(id));
    if (unknown.length > 0) throw new UnknownInterruptError(unknown, openIds);
    return new Map(Object.entries(value));
  }
  if (open.length > 1) throw new AmbiguousResumeError(openIds);
  return new Map([[openIds[0] as string, value]]);
}

/** Writes given with a Command (its update and goto), checked before anything is stored. */
function commandWrites(env: StepEnv, command: Command): Write[] {
  const update = command.update;
  const entries = Array.isArray(update) ? Object.fromEntries(update) : (update ?? {});
  const writes = checkedStateWrites(env.spec, entries, "The Command's update");
  return [...writes, ...gotoWrites(env.spec, START, gotoList(command.goto))];
}

/**
 * Records `Command({ resume, update, goto })` against the head: every value is checked
 * first (pending interrupt ids, schemas), then the resume values become pending writes keyed
 * by interrupt id. Nothing is written when a check fails. `persist` false keeps them in
 * memory for the superstep about to run (`head.unsaved`): its commit makes them redundant, and
 * it saves them itself if it does not commit. One statement fewer per resume.
 */
export async function recordResume(
  env: StepEnv,
  head: LoadedHead | undefined,
  command: Command,
  persist: boolean,
): Promise<LoadedHead> {
  // A question asked by a node this version lacks has no one to answer: say so, record nothing.
  const missing = head && missingNodes(env, head);
  if (missing) throw missing;
  const planned = head ? plannedTasks(env, head) : [];
  const pending = readPendingWrites(head?.pendingWrites ?? []);
  const open = unresolvedInterrupts(planned, pending);
  // No question asked yet, but tasks to run (after updateState, at a static breakpoint): the
  // value waits for the first interrupt() that asks (NULL_RESUME), as in LangGraph. A question
  // already answered is not asked again: a second answer to it is refused.
  const asked = pending.resume.size > 0 || planned.some((task) => pending.interrupts.has(task.id));
  const unasked = open.length === 0 && planned.length > 0 && !asked && !isResumeMap(command.resume);
  if (head === undefined || (open.length === 0 && !unasked)) throw new NotInterruptedError(env.key.threadId);
  const targets = unasked ? new Map([[NULL_RESUME, command.resume]]) : resumeTargets(command.resume, open);
  for (const [id, value] of unasked ? [] : targets) {
    const issues = resumeIssues(open.find((record) => record.id === id) as Interrupt, value);
    if (issues.texts.length > 0) throw new InvalidResumeError(id, issues.texts, false, issues.redacted);
  }
  const extra =
    command.update !== undefined || gotoList(command.goto).length > 0 ? commandWrites(env, command) : [];
  const batches: WriteBatch[] = [...targets].map(([id, value]) => ({
    taskId: id,
    writes: [[RESUME, value, SPECIAL_WRITE_IDX[RESUME]]],
  }));
  const passing = unasked ? breakpointPass(env, head) : undefined;
  if (passing !== undefined) batches.push(passing);
  if (extra.length > 0)
    batches.push({
      taskId: INPUT_TASK_ID,
      writes: extra.map(([channel, value], idx) => [channel, value, idx]),
    });
  if (persist) await saveWrites(env, head.checkpoint.id, batches);
  const added = batches.flatMap(({ taskId, writes }) =>
    writes.map(([channel, value, idx]) => ({ taskId, channel, value, idx })),
  );
  return {
    ...head,
    pendingWrites: [...head.pendingWrites, ...added],
    ...(persist ? {} : { unsaved: [...(head.unsaved ?? []), ...batches] }),
  };
}

/** A Command without `resume` given as input: its update and goto become a new input checkpoint. */
export async function commandRun(
  env: StepEnv,
  head: LoadedHead | undefined,
  command: Command,
): Promise<LoadedHead> {
  // The tasks the thread waits on (a node paused at interrupt()) run again after the update,
  // as in LangGraph: a Command without `resume` never walks past an approval.
  return commitWrites(env, head, {
    source: "input",
    writes: commandWrites(env, command),
    metadataWrites: { [START]: { update: command.update ?? null, goto: command.goto } },
    carry: head === undefined ? [] : plannedTasks(env, head),
  });
}
