// The soak's load, one story per thread: what a producer does with a run (start it, answer its
// questions — alone, racing another client, or retrying with one idempotency key — let them time
// out, cancel it, queue runs behind it) and what it is told, written to the ledger as it goes.
// Some stories (the seed picks) also stream their runs and read each to its end (streams.ts).
import type { LayoverClient } from "@layover/runtime";
import { APPROVAL_ID, CHAIN_ID, TIMEOUT_ANSWER } from "./graphs.ts";
import { addThread, errorCode, type Ledger, type Race, type StoryKind, type ThreadEntry } from "./ledger.ts";
import type { Rng } from "./rng.ts";
import { follow, pickStreamMode } from "./streams.ts";

export interface StoryContext {
  clients: [LayoverClient, LayoverClient];
  ledger: Ledger;
  rng: Rng;
}

/** A story under way: its context, and the stream reads it began (awaited at its end). */
type Story = StoryContext & { readers: Promise<void>[] };

type Parked = { status: string; interrupts?: Array<{ id: string; deadline?: string | null }> };

/** How long a story waits for a run to settle: faults delay runs by seconds, not minutes. */
const WAIT_MS = 180_000;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

class StoryError extends Error {}

function client(ctx: Story): LayoverClient {
  return ctx.clients[ctx.rng() < 0.5 ? 0 : 1];
}

/** What a start's config or a resume's options add when the story streams. */
function streaming(entry: ThreadEntry) {
  return entry.streamMode === undefined ? {} : { streamMode: entry.streamMode };
}

/** Reads run `runId`'s stream to its end in the background, when the story streams. */
function watch(ctx: Story, entry: ThreadEntry, runId: string, askedAt: number): void {
  if (entry.streamMode === undefined) return;
  follow(ctx, { runId, threadId: entry.threadId, mode: entry.streamMode, askedAt });
}

async function waitFor(ctx: Story, runId: string, expected: string): Promise<Parked> {
  const result = (await client(ctx).runs.wait(runId, { timeoutMs: WAIT_MS })) as Parked;
  if (result.status !== expected) throw new StoryError(`run ${runId} ${result.status}, expected ${expected}`);
  return result;
}

async function startApproval(ctx: Story, entry: ThreadEntry, input: Record<string, unknown>) {
  ctx.ledger.calls.starts++;
  const askedAt = Date.now();
  const { runId } = await client(ctx).runs.start({
    graphId: APPROVAL_ID,
    threadId: entry.threadId,
    input,
    ...(entry.streamMode === undefined ? {} : { config: streaming(entry) }),
  });
  entry.runIds.push(runId);
  watch(ctx, entry, runId, askedAt);
  return { runId, parked: await waitFor(ctx, runId, "interrupted") };
}

function firstInterrupt(parked: Parked): { id: string; deadline?: string | null } {
  const question = parked.interrupts?.[0];
  if (question === undefined) throw new StoryError("parked without an interrupt");
  return question;
}

/** Writes down what each of a race's resumes was told. */
function recordRace(
  ctx: Story,
  entry: ThreadEntry,
  race: { id: string; kind: Race["kind"] },
  settled: Array<PromiseSettledResult<{ runId: string }>>,
): void {
  ctx.ledger.calls.resumes += settled.length;
  ctx.ledger.races.push({
    threadId: entry.threadId,
    interruptId: race.id,
    kind: race.kind,
    outcomes: settled.map((s) =>
      s.status === "fulfilled" ? { runId: s.value.runId } : { error: errorCode(s.reason) },
    ),
  });
}

/** Both clients answer one question at once: exactly one may win. */
async function raceTwoClients(ctx: Story, entry: ThreadEntry, id: string): Promise<string> {
  const values = ["A", "B"];
  const settled = await Promise.allSettled(
    ctx.clients.map((c, i) => c.threads.resume(entry.threadId, { [id]: values[i] }, streaming(entry))),
  );
  recordRace(ctx, entry, { id, kind: "two-clients" }, settled);
  const won = settled.findIndex((s) => s.status === "fulfilled");
  const winner = settled[won];
  if (winner?.status !== "fulfilled") throw new StoryError("neither racing resume won");
  entry.answers.push(values[won] as string);
  return winner.value.runId;
}

/** One answer sent twice at once and retried later from the other client, with one key. */
async function retryWithKey(ctx: Story, entry: ThreadEntry, id: string): Promise<string> {
  const options = { idempotencyKey: `key-${id}`, ...streaming(entry) };
  const [a, b] = ctx.clients;
  const settled = await Promise.allSettled([
    a.threads.resume(entry.threadId, { [id]: "I" }, options),
    a.threads.resume(entry.threadId, { [id]: "I" }, options),
  ]);
  settled.push(...(await Promise.allSettled([b.threads.resume(entry.threadId, { [id]: "I" }, options)])));
  recordRace(ctx, entry, { id, kind: "idempotent" }, settled);
  const first = settled.find((s) => s.status === "fulfilled");
  if (first?.status !== "fulfilled") throw new StoryError("no retry with the key was answered");
  entry.answers.push("I");
  return first.value.runId;
}

/** Answers the parked question one of three ways; resolves with the run that took the answer. */
async function answer(ctx: Story, entry: ThreadEntry, parked: Parked): Promise<string> {
  const { id } = firstInterrupt(parked);
  const way = ctx.rng();
  const askedAt = Date.now();
  let runId: string;
  if (way < 0.3) runId = await raceTwoClients(ctx, entry, id);
  else if (way < 0.5) runId = await retryWithKey(ctx, entry, id);
  else {
    ctx.ledger.calls.resumes++;
    runId = (await client(ctx).threads.resume(entry.threadId, { [id]: "yes" }, streaming(entry))).runId;
    entry.answers.push("yes");
  }
  entry.runIds.push(runId);
  watch(ctx, entry, runId, askedAt);
  return runId;
}

/** Parks once or twice; each question answered. */
async function approvalStory(ctx: Story, entry: ThreadEntry, asks: number): Promise<void> {
  let { parked } = await startApproval(ctx, entry, { asks, delayMs: Math.floor(ctx.rng() * 400) });
  for (let question = 1; question <= asks; question++) {
    const runId = await answer(ctx, entry, parked);
    parked = await waitFor(ctx, runId, question < asks ? "interrupted" : "success");
  }
}

/** Until just about the question's deadline (from 300 ms before to 300 ms after). */
async function untilAboutDue(ctx: Story, entry: ThreadEntry, deadline: string | null | undefined) {
  const due = deadline ? Date.parse(deadline) - Date.now() : (entry.timeoutMs ?? 0);
  await sleep(Math.max(0, due + Math.floor(ctx.rng() * 600) - 300));
}

/** A late answer racing the timeout sweep: either may win. */
async function lateAnswer(ctx: Story, entry: ThreadEntry, id: string): Promise<void> {
  ctx.ledger.calls.resumes++;
  const askedAt = Date.now();
  const outcome: { runId?: string; error?: string } = await client(ctx)
    .threads.resume(entry.threadId, { [id]: "late" }, streaming(entry))
    .then(
      ({ runId }) => ({ runId }),
      (error: unknown) => ({ error: errorCode(error) }),
    );
  ctx.ledger.races.push({ threadId: entry.threadId, interruptId: id, kind: "timeout", outcomes: [outcome] });
  if (outcome.runId !== undefined) {
    entry.answers.push("late");
    entry.runIds.push(outcome.runId);
    watch(ctx, entry, outcome.runId, askedAt);
    await waitFor(ctx, outcome.runId, "success");
  } else if (outcome.error === "INTERRUPT_ALREADY_RESOLVED") entry.answers.push(TIMEOUT_ANSWER);
  else throw new StoryError(`late answer: ${outcome.error}`);
}

/** A late cancel racing the timeout sweep: the run is cancelled, or the timeout answered it first. */
async function lateCancel(ctx: Story, entry: ThreadEntry, runId: string): Promise<void> {
  await cancel(ctx, entry, runId);
  if (!entry.cancelled.includes(runId)) entry.answers.push(TIMEOUT_ANSWER);
}

/** Questions with a short timeout, left to the scheduler; sometimes a late answer or cancel races it. */
async function timeoutStory(ctx: Story, entry: ThreadEntry): Promise<void> {
  const asks = ctx.rng() < 0.3 ? 2 : 1;
  entry.timeoutMs = 1_000 + Math.floor(ctx.rng() * 1_500);
  const { runId, parked } = await startApproval(ctx, entry, {
    asks,
    delayMs: 50,
    timeoutMs: entry.timeoutMs,
  });
  const way = ctx.rng();
  if (asks === 2 || way < 0.34) {
    entry.answers.push(...Array.from({ length: asks }, () => TIMEOUT_ANSWER));
    return;
  }
  const { id, deadline } = firstInterrupt(parked);
  await untilAboutDue(ctx, entry, deadline);
  if (way < 0.67) await lateAnswer(ctx, entry, id);
  else await lateCancel(ctx, entry, runId);
}

async function cancel(ctx: Story, entry: ThreadEntry, runId: string): Promise<void> {
  ctx.ledger.calls.cancels++;
  const { status } = await client(ctx).runs.cancel(runId);
  if (status === "cancelled") entry.cancelled.push(runId);
}

async function startChain(ctx: Story, entry: ThreadEntry, delayMs: number, strategy?: "enqueue" | "reject") {
  ctx.ledger.calls.starts++;
  // Some store only where the run stops or its job hands the thread on.
  const durability = ctx.rng() < 0.25 ? { durability: "exit" as const } : {};
  const config = { ...durability, ...streaming(entry) };
  const askedAt = Date.now();
  const { runId } = await client(ctx).runs.start({
    graphId: CHAIN_ID,
    threadId: entry.threadId,
    input: { delayMs },
    ...(Object.keys(config).length > 0 ? { config } : {}),
    ...(strategy ? { multitaskStrategy: strategy } : {}),
  });
  entry.runIds.push(runId);
  watch(ctx, entry, runId, askedAt);
  return runId;
}

/** Cancels a chain run before a worker takes it, or once it is running. */
async function cancelChainStory(ctx: Story, entry: ThreadEntry, running: boolean): Promise<void> {
  const runId = await startChain(ctx, entry, running ? 300 : 100);
  const deadline = Date.now() + 20_000;
  while (running && (await ctx.clients[0].runs.get(runId)).status === "pending" && Date.now() < deadline)
    await sleep(50);
  await cancel(ctx, entry, runId);
  if (!entry.cancelled.includes(runId)) await waitFor(ctx, runId, "success");
}

async function cancelParkedStory(ctx: Story, entry: ThreadEntry): Promise<void> {
  const { runId } = await startApproval(ctx, entry, { asks: 1, delayMs: 0 });
  await cancel(ctx, entry, runId);
}

/** A chain run, one queued behind it ("enqueue") and one refused while it runs ("reject"). */
async function multitaskStory(ctx: Story, entry: ThreadEntry): Promise<void> {
  const first = await startChain(ctx, entry, 150);
  const queued = await startChain(ctx, entry, 50, "enqueue");
  const accepted = [first, queued];
  try {
    accepted.push(await startChain(ctx, entry, 0, "reject"));
  } catch (error) {
    if (errorCode(error) !== "THREAD_BUSY") throw error;
    ctx.ledger.calls.busyRefusals++;
  }
  for (const runId of accepted) await waitFor(ctx, runId, "success");
}

/** Cancels the running first run (or the queued one) of a thread with a run queued behind it. */
async function cancelQueuedStory(ctx: Story, entry: ThreadEntry): Promise<void> {
  const first = await startChain(ctx, entry, 200);
  const queued = await startChain(ctx, entry, 50, "enqueue");
  const victim = ctx.rng() < 0.5 ? first : queued;
  await sleep(Math.floor(ctx.rng() * 600));
  await cancel(ctx, entry, victim);
  for (const runId of [first, queued])
    if (!entry.cancelled.includes(runId)) await waitFor(ctx, runId, "success");
}

/** A parked run cancelled by one client while the other answers it: one of them wins. */
async function cancelOrResumeStory(ctx: Story, entry: ThreadEntry): Promise<void> {
  const { runId, parked } = await startApproval(ctx, entry, { asks: 1, delayMs: 0 });
  const { id } = firstInterrupt(parked);
  const [a, b] = ctx.rng() < 0.5 ? ctx.clients : [ctx.clients[1], ctx.clients[0]];
  ctx.ledger.calls.cancels++;
  const askedAt = Date.now();
  const [cancelled, resumed] = await Promise.allSettled([
    a.runs.cancel(runId),
    b.threads.resume(entry.threadId, { [id]: "yes" }, streaming(entry)),
  ]);
  recordRace(ctx, entry, { id, kind: "cancel-or-resume" }, [resumed]);
  if (cancelled.status === "rejected") throw cancelled.reason;
  const race = ctx.ledger.races.at(-1);
  race?.outcomes.push(
    cancelled.value.status === "cancelled"
      ? { runId: `cancelled ${runId}` }
      : { error: `cancel found ${cancelled.value.status}` },
  );
  if (cancelled.value.status === "cancelled") entry.cancelled.push(runId);
  if (resumed.status === "fulfilled") {
    entry.answers.push("yes");
    entry.runIds.push(resumed.value.runId);
    watch(ctx, entry, resumed.value.runId, askedAt);
    await waitFor(ctx, resumed.value.runId, "success");
  }
}

async function leaveParkedStory(ctx: Story, entry: ThreadEntry): Promise<void> {
  await startApproval(ctx, entry, { asks: 1, delayMs: 0 });
  entry.waitsForPerson = true;
}

/**
 * A streamed chain run slow enough (5–7.5 s) that a worker frozen in one of its nodes has its job
 * taken over and thaws while the run goes on: what the thawed one then reports shows in the stream.
 */
async function slowStreamStory(ctx: Story, entry: ThreadEntry): Promise<void> {
  entry.streamMode ??= "updates";
  const runId = await startChain(ctx, entry, 1_000 + Math.floor(ctx.rng() * 500));
  await waitFor(ctx, runId, "success");
}

type Play = (ctx: Story, entry: ThreadEntry) => Promise<void>;
/** Each story: its kind, how often it is picked (weight), its graph, and what it does. */
const STORIES: Array<[StoryKind, number, string, Play]> = [
  ["once", 25, APPROVAL_ID, (ctx, entry) => approvalStory(ctx, entry, 1)],
  ["twice", 15, APPROVAL_ID, (ctx, entry) => approvalStory(ctx, entry, 2)],
  ["timeout", 15, APPROVAL_ID, timeoutStory],
  ["cancel-pending", 8, CHAIN_ID, (ctx, entry) => cancelChainStory(ctx, entry, false)],
  ["cancel-running", 10, CHAIN_ID, (ctx, entry) => cancelChainStory(ctx, entry, true)],
  ["cancel-parked", 8, APPROVAL_ID, cancelParkedStory],
  ["multitask", 10, CHAIN_ID, multitaskStory],
  ["cancel-queued", 8, CHAIN_ID, cancelQueuedStory],
  ["cancel-or-resume", 8, APPROVAL_ID, cancelOrResumeStory],
  ["leave-parked", 5, APPROVAL_ID, leaveParkedStory],
  ["slow-stream", 8, CHAIN_ID, slowStreamStory],
];
const WEIGHT = STORIES.reduce((sum, [, weight]) => sum + weight, 0);

/** The story at `point` along the weights' sum. */
function pickStory(point: number): (typeof STORIES)[number] {
  let left = point;
  for (const story of STORIES) {
    left -= story[1];
    if (left < 0) return story;
  }
  return STORIES[0] as (typeof STORIES)[number];
}

/**
 * Runs one story, picked by weight, on a thread of its own; a failure is written down, not
 * thrown. It ends once the streams it reads have ended too.
 */
export async function runStory(ctx: StoryContext, threadId: string): Promise<void> {
  const [kind, , graphId, play] = pickStory(ctx.rng() * WEIGHT);
  const entry = addThread(ctx.ledger, threadId, kind, graphId);
  const streamMode = pickStreamMode(ctx.rng);
  if (streamMode !== undefined) entry.streamMode = streamMode;
  const story: Story = { ...ctx, readers: [] };
  try {
    await play(story, entry);
    entry.done = true;
  } catch (error) {
    entry.abandoned = error instanceof StoryError ? error.message : errorCode(error);
    ctx.ledger.unexpected.push({ threadId, call: kind, error: entry.abandoned });
  }
  await Promise.all(story.readers);
}
