// Time travel on workers: threads.continue(threadId, { checkpointId }) goes on from an older
// checkpoint of the thread's history, as in-process invoke(null, { configurable: { checkpoint_id
// } }) and updateState on it do. The person who approved the wrong plan goes back to the step
// before the approval, fixes the plan, and is asked again; the question left behind is
// cancelled. Before, a thread could only go on from its head.
import { randomUUID } from "node:crypto";
import {
  Annotation,
  Command,
  END,
  interrupt,
  MemorySaver,
  START,
  StateGraph,
  StateSchema,
  type StateSnapshot,
} from "@layover/graph";
import { createDb, registerGraph } from "@layover/runtime";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { z } from "zod";
import { createHarness, type Harness } from "./support/harness.ts";
import { until } from "./support/until.ts";

const calls = new Map<string, number>();
const count = (threadId: unknown, what: string) => {
  const key = `${String(threadId)}:${what}`;
  calls.set(key, (calls.get(key) ?? 0) + 1);
};
const counted = (threadId: string, what: string) => calls.get(`${threadId}:${what}`) ?? 0;

const Trip = Annotation.Root({
  destination: Annotation<string>(),
  plan: Annotation<string>(),
  approved: Annotation<string>(),
  booked: Annotation<string>(),
});
/** Plans a trip, asks a person to approve the plan, books it. */
function tripGraph(checkpointer?: MemorySaver) {
  return new StateGraph(Trip)
    .addNode("plan", (s, config) => {
      count(config.configurable?.thread_id, "plan");
      return { plan: `trip to ${s.destination}` };
    })
    .addNode("approve", (s) => ({ approved: String(interrupt({ plan: s.plan })) }))
    .addNode("book", (s, config) => {
      count(config.configurable?.thread_id, "book");
      return { booked: `${s.plan} (${s.approved})` };
    })
    .addEdge(START, "plan")
    .addEdge("plan", "approve")
    .addEdge("approve", "book")
    .addEdge("book", END)
    .compile(checkpointer ? { checkpointer } : {});
}

/** prep → review (asks); amount must be even: a refinement the producers' JSON Schema check lets through. */
const picky = new StateGraph(
  new StateSchema({
    amount: z.number().refine((n) => n % 2 === 0, "must be even"),
    approved: z.string().optional(),
  }),
)
  .addNode("prep", () => ({}))
  .addNode("review", () => ({ approved: String(interrupt("approve?")) }))
  .addEdge(START, "prep")
  .addEdge("prep", "review")
  .addEdge("review", END)
  .compile();

let h: Harness;
let stopWorker: () => Promise<void>;
beforeAll(async () => {
  h = await createHarness("continue_fork");
  stopWorker = await h.startWorker({ id: "w1", graphs: { trip: tripGraph(), picky } });
}, 60_000);
afterAll(async () => {
  await h?.close();
});

/** A thread of the trip graph parked at the approval. */
async function parkedTrip(destination = "Rome") {
  const { runId, threadId } = await h.client.runs.start({ graphId: "trip", input: { destination } });
  expect((await h.client.runs.wait(runId)).status).toBe("interrupted");
  return threadId;
}

/** The thread's checkpoints, newest first, as threads.history gives them. */
async function history(threadId: string) {
  const all = [];
  for await (const checkpoint of h.client.threads.history(threadId)) all.push(checkpoint);
  return all;
}

/** The id of the thread's newest checkpoint whose next tasks are `next`. */
async function checkpointBefore(threadId: string, next: string): Promise<string> {
  const snapshot = (await history(threadId)).find((s) => s.next.length === 1 && s.next[0] === next);
  expect(snapshot, `a checkpoint before ${next}`).toBeDefined();
  return snapshot?.checkpointId as string;
}

describe("threads.continue from an older checkpoint", () => {
  it("forks with an edited state: the question is asked again, the one left behind is cancelled, nothing committed is lost", async () => {
    const threadId = await parkedTrip("Rome");
    const [asked] = (await h.client.interrupts.list({ threadId, status: "pending" })).interrupts;
    const before = await checkpointBefore(threadId, "plan");
    const historyBefore = await history(threadId);
    const forked = await h.client.threads.continue(threadId, {
      checkpointId: before,
      update: { destination: "Paris" },
    });
    expect(await h.client.runs.wait(forked.runId)).toMatchObject({
      status: "interrupted",
      interrupts: [{ value: { plan: "trip to Paris" } }],
    });
    // The question about Rome belongs to the branch left behind: answering it is refused, saying why.
    await expect(h.client.threads.resume(threadId, { [asked?.id as string]: "yes" })).rejects.toMatchObject({
      code: "INTERRUPT_ALREADY_RESOLVED",
      message: expect.stringContaining(`superseded by run ${forked.runId}`),
    });
    const answered = await h.client.threads.resume(threadId, "yes");
    expect(await h.client.runs.wait(answered.runId)).toMatchObject({
      status: "success",
      values: { destination: "Paris", plan: "trip to Paris", approved: "yes", booked: "trip to Paris (yes)" },
    });
    expect(counted(threadId, "plan")).toBe(2);
    // Every checkpoint of the abandoned branch is still in the history; the fork's parent is the one chosen.
    const after = await history(threadId);
    const ids = new Set(after.map((s) => s.checkpointId));
    for (const s of historyBefore) expect(ids.has(s.checkpointId)).toBe(true);
    expect(after.some((s) => s.parentId === before && s.metadata.run_id === forked.runId)).toBe(true);
  });

  it("replays a finished thread from a checkpoint as the engine does in-process: the nodes after it run again", async () => {
    const threadId = await parkedTrip("Oslo");
    await h.client.runs.wait((await h.client.threads.resume(threadId, "ok")).runId);
    const replay = await h.client.threads.continue(threadId, {
      checkpointId: await checkpointBefore(threadId, "book"),
    });
    const result = await h.client.runs.wait(replay.runId);
    expect(counted(threadId, "book")).toBe(2);

    // The same calls in-process, on a MemorySaver.
    const local = tripGraph(new MemorySaver());
    const config = { configurable: { thread_id: `local-${threadId}` } };
    await local.invoke({ destination: "Oslo" }, config);
    await local.invoke(new Command({ resume: "ok" }), config);
    let beforeBook: StateSnapshot | undefined;
    for await (const s of local.getStateHistory(config)) if (s.next[0] === "book") beforeBook ??= s;
    const replayed = await local.invoke(null, beforeBook?.config as typeof config);
    expect(result).toMatchObject({ status: "success", values: replayed });
    expect((await h.client.threads.get(threadId)).values).toEqual((await local.getState(config)).values);
  });

  it("counts an update as a node's output: asNode skips the question", async () => {
    const threadId = await parkedTrip("Lima");
    const skipped = await h.client.threads.continue(threadId, {
      checkpointId: await checkpointBefore(threadId, "plan"),
      update: { plan: "trip to Lima by train", approved: "by policy" },
      asNode: "approve",
    });
    expect(await h.client.runs.wait(skipped.runId)).toMatchObject({
      status: "success",
      values: { booked: "trip to Lima by train (by policy)" },
    });
    expect((await h.client.interrupts.list({ threadId, status: "pending" })).interrupts).toEqual([]);
    expect(counted(threadId, "plan")).toBe(1);
  });

  it("gives a retry with the idempotency key the first call's run, and refuses the key for another checkpoint", async () => {
    const threadId = await parkedTrip("Cairo");
    const checkpointId = await checkpointBefore(threadId, "plan");
    const first = await h.client.threads.continue(threadId, { checkpointId, idempotencyKey: "back-1" });
    expect((await h.client.runs.wait(first.runId)).status).toBe("interrupted");
    expect(await h.client.threads.continue(threadId, { checkpointId, idempotencyKey: "back-1" })).toEqual(
      first,
    );
    const head = (await h.client.threads.get(threadId)).config.configurable.checkpoint_id as string;
    await expect(
      h.client.threads.continue(threadId, { checkpointId: head, idempotencyKey: "back-1" }),
    ).rejects.toMatchObject({
      code: "IDEMPOTENCY_KEY_REUSED",
      message: expect.stringContaining("checkpointId"),
    });
    await expect(h.client.threads.continue(threadId, { idempotencyKey: "back-1" })).rejects.toMatchObject({
      code: "IDEMPOTENCY_KEY_REUSED",
    });
    expect(await h.client.threads.runs(threadId)).toHaveLength(2);
  });
});

describe("a fork cancelled before a worker took it", () => {
  it("gives back the questions it superseded: the thread waits for them again", async () => {
    const threadId = await parkedTrip("Kyiv");
    const [asked] = (await h.client.interrupts.list({ threadId, status: "pending" })).interrupts;
    const before = await checkpointBefore(threadId, "plan");
    await stopWorker(); // every worker busy or down: the fork's job waits in Redis
    const fork = await h.client.threads.continue(threadId, {
      checkpointId: before,
      update: { destination: "Oslo" },
    });
    expect((await h.client.interrupts.list({ threadId, status: "pending" })).interrupts).toEqual([]);
    expect(await h.client.runs.cancel(fork.runId)).toEqual({ status: "cancelled" });
    stopWorker = await h.startWorker({ id: "w2", graphs: { trip: tripGraph(), picky } });
    // The cancelled fork's job stops and hands the thread back to its question.
    await until(
      async () => (await h.client.threads.get(threadId)).status === "interrupted",
      10_000,
      "the cancelled fork's job never gave the question back",
    );
    expect((await h.client.interrupts.list({ threadId, status: "pending" })).interrupts).toMatchObject([
      { id: asked?.id, value: { plan: "trip to Kyiv" } },
    ]);
    const answered = await h.client.threads.resume(threadId, "yes");
    expect(await h.client.runs.wait(answered.runId)).toMatchObject({
      status: "success",
      values: { booked: "trip to Kyiv (yes)" },
    });
    expect(counted(threadId, "plan")).toBe(1);
  });
});

describe("a fork its worker refuses", () => {
  it("fails its run and gives back the questions it superseded: the thread waits for them again", async () => {
    const { runId, threadId } = await h.client.runs.start({ graphId: "picky", input: { amount: 2 } });
    const [asked] = (await h.client.runs.wait(runId)).interrupts;
    // amount 3 passes the producers' check; the worker's graph refuses it (odd).
    const fork = await h.client.threads.continue(threadId, {
      checkpointId: await checkpointBefore(threadId, "prep"),
      update: { amount: 3 },
    });
    expect(await h.client.runs.wait(fork.runId)).toMatchObject({
      status: "error",
      error: { message: expect.stringContaining("must be even") },
    });
    expect((await h.client.threads.get(threadId)).status).toBe("interrupted");
    expect((await h.client.interrupts.list({ threadId, status: "pending" })).interrupts).toMatchObject([
      { id: asked?.id },
    ]);
    expect(await h.client.runs.wait((await h.client.threads.resume(threadId, "ok")).runId)).toMatchObject({
      status: "success",
      values: { amount: 2, approved: "ok" },
    });
  });
});

describe("threads.continue refuses a checkpoint it cannot go on from, and writes nothing", () => {
  async function unchanged(threadId: string, act: () => Promise<unknown>, expected: Record<string, unknown>) {
    const runs = await h.client.threads.runs(threadId);
    const pending = (await h.client.interrupts.list({ threadId, status: "pending" })).interrupts;
    await expect(act()).rejects.toMatchObject(expected);
    expect(await h.client.threads.runs(threadId)).toEqual(runs);
    expect((await h.client.interrupts.list({ threadId, status: "pending" })).interrupts).toEqual(pending);
    expect((await h.client.threads.get(threadId)).status).toBe("interrupted");
  }

  it("one the thread does not have, or another thread's", async () => {
    const threadId = await parkedTrip();
    const other = await checkpointBefore(await parkedTrip(), "approve");
    for (const checkpointId of [randomUUID(), "not-a-checkpoint", other])
      await unchanged(threadId, () => h.client.threads.continue(threadId, { checkpointId }), {
        code: "CHECKPOINT_NOT_FOUND",
        message: expect.stringContaining("threads.history"),
      });
  });

  it("one that is not an id", async () => {
    const threadId = await parkedTrip();
    for (const checkpointId of [42, "", null])
      await unchanged(
        threadId,
        () => h.client.threads.continue(threadId, { checkpointId: checkpointId as unknown as string }),
        { code: "INVALID_INPUT", message: expect.stringContaining("checkpointId") },
      );
  });

  it("the thread's head while it waits for an answer: that takes threads.resume", async () => {
    const threadId = await parkedTrip();
    const head = (await h.client.threads.get(threadId)).config.configurable.checkpoint_id as string;
    await unchanged(threadId, () => h.client.threads.continue(threadId, { checkpointId: head }), {
      code: "INVALID_INPUT",
      message: expect.stringContaining("threads.resume"),
    });
  });

  it("a replay of a checkpoint where a run ended: nothing runs from it", async () => {
    const threadId = await parkedTrip();
    await h.client.runs.wait((await h.client.threads.resume(threadId, "ok")).runId);
    const end = (await history(threadId)).find((s) => s.next.length === 0 && s.values.booked);
    const first = await checkpointBefore(threadId, "plan");
    // Move the head on (a fork), so the end is an older checkpoint.
    await h.client.runs.wait((await h.client.threads.continue(threadId, { checkpointId: first })).runId);
    const runs = await h.client.threads.runs(threadId);
    await expect(
      h.client.threads.continue(threadId, { checkpointId: end?.checkpointId as string }),
    ).rejects.toMatchObject({
      code: "INVALID_INPUT",
      message: expect.stringContaining("nothing runs from it"),
    });
    expect(await h.client.threads.runs(threadId)).toEqual(runs);
  });

  it("any while the graph's workers predate it: an older worker would go on from the head", async () => {
    const graphId = `old-fork-${randomUUID()}`;
    await registerGraph(createDb(h.pool, h.schema), { id: graphId, input_schema: {}, options: {} }, 90_000);
    const threadId = randomUUID();
    await h.pool.query(`INSERT INTO "${h.schema}".threads (id, graph_id, status) VALUES ($1, $2, 'error')`, [
      threadId,
      graphId,
    ]);
    await expect(h.client.threads.continue(threadId, { checkpointId: randomUUID() })).rejects.toMatchObject({
      code: "INVALID_INPUT",
      message: expect.stringContaining("predate it"),
    });
    expect(await h.client.threads.runs(threadId)).toEqual([]);
  });
});
