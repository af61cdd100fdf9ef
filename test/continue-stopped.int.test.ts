// A thread whose run stopped — failed after a person's answer, or cancelled — goes on from its
// last checkpoint with threads.continue, as in-process invoke(null, config) does; a resume
// cancelled before any worker took it gives its answers back. Before, the thread was stuck:
// continue refused all but a breakpoint (NotInterruptedError), a new answer was refused as
// already given, and runs.start asked the person again and ran the finished work again.
import { Annotation, END, entrypoint, interrupt, START, StateGraph, task } from "@layover/graph";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createHarness, type Harness } from "./support/harness.ts";
import { until } from "./support/until.ts";

const calls = new Map<string, number>();
const count = (threadId: unknown, what: string) => {
  const key = `${String(threadId)}:${what}`;
  calls.set(key, (calls.get(key) ?? 0) + 1);
  return calls.get(key) ?? 0;
};
const counted = (threadId: string, what: string) => calls.get(`${threadId}:${what}`) ?? 0;

const State = Annotation.Root({ booked: Annotation<string>() });
/** Asks, then books with an airline that answers 503 to the first booking of a thread. */
const askThenBook = new StateGraph(State)
  .addNode("book", (_state, config) => {
    const thread = config.configurable?.thread_id;
    count(thread, "asked");
    const answer = String(interrupt("book LHR?"));
    if (count(thread, "booking") === 1) throw new Error("airline: 503");
    return { booked: answer };
  })
  .addEdge(START, "book")
  .addEdge("book", END)
  .compile();

/** A workflow: charge, ask, ship (the carrier fails the first shipment of a thread). */
const charge = task("charge", (thread: string) => count(thread, "charge"));
const approve = task("approve", () => interrupt("ship it?"));
const ship = task("ship", (thread: string) => {
  if (count(thread, "ship") === 1) throw new Error("carrier: 503");
  return "shipped";
});
const order = entrypoint("order", async (thread: string) => ({
  charged: await charge(thread),
  ok: await approve(),
  shipped: await ship(thread),
}));

const Steps = Annotation.Root({ n: Annotation<number>({ reducer: (a, b) => a + b, default: () => 0 }) });
/** Three steps on a thread of its own; the second takes a while and ignores its signal. */
const threeSteps = new StateGraph(Steps)
  .addNode("s1", (_state, config) => {
    count(config.configurable?.thread_id, "s1");
    return { n: 1 };
  })
  .addNode("s2", async (_state, config) => {
    count(config.configurable?.thread_id, "s2");
    await new Promise((resolve) => setTimeout(resolve, 400));
    return { n: 10 };
  })
  .addNode("s3", (_state, config) => {
    count(config.configurable?.thread_id, "s3");
    return { n: 100 };
  })
  .addEdge(START, "s1")
  .addEdge("s1", "s2")
  .addEdge("s2", "s3")
  .addEdge("s3", END)
  .compile();

let h: Harness;
let stopWorker: () => Promise<void>;
const graphs = { "ask-then-book": askThenBook, order, "three-steps": threeSteps };
beforeAll(async () => {
  h = await createHarness("continue_stopped");
  stopWorker = await h.startWorker({ id: "w1", graphs });
}, 60_000);
afterAll(async () => {
  await h?.close();
});

describe("threads.continue after a run that failed", () => {
  it("runs the failed node again with the answer it had, without asking again", async () => {
    const { runId, threadId } = await h.client.runs.start({ graphId: "ask-then-book", input: {} });
    expect((await h.client.runs.wait(runId)).status).toBe("interrupted");
    const failed = await h.client.threads.resume(threadId, "yes");
    expect(await h.client.runs.wait(failed.runId)).toMatchObject({ status: "error" });
    expect(await h.client.threads.get(threadId)).toMatchObject({ status: "error", next: ["book"] });
    const again = await h.client.threads.continue(threadId);
    expect(await h.client.runs.wait(again.runId)).toMatchObject({
      status: "success",
      values: { booked: "yes" },
    });
    // The node ran three times (asked, failed with the answer, booked with it); nobody was asked again.
    expect(counted(threadId, "booking")).toBe(2);
    expect((await h.client.interrupts.list({ threadId, status: "resolved" })).interrupts).toHaveLength(1);
    expect((await h.client.interrupts.list({ threadId, status: "pending" })).interrupts).toHaveLength(0);
  });

  it("runs only the workflow's unfinished tasks: the card is charged once", async () => {
    const { runId, threadId } = await h.client.runs.start({ graphId: "order", input: "placeholder" });
    await h.client.runs.wait(runId);
    const failed = await h.client.threads.resume(threadId, true);
    expect((await h.client.runs.wait(failed.runId)).status).toBe("error");
    const again = await h.client.threads.continue(threadId);
    expect(await h.client.runs.wait(again.runId)).toMatchObject({
      status: "success",
      values: { charged: 1, ok: true, shipped: "shipped" },
    });
    expect(counted("placeholder", "charge")).toBe(1);
  });

  it("returns the first call's run to a retry with its idempotency key, and refuses the key for another call", async () => {
    const { runId, threadId } = await h.client.runs.start({ graphId: "ask-then-book", input: {} });
    await h.client.runs.wait(runId);
    await h.client.runs.wait((await h.client.threads.resume(threadId, "yes")).runId); // the 503
    const first = await h.client.threads.continue(threadId, { idempotencyKey: "retry-1" });
    expect((await h.client.runs.wait(first.runId)).status).toBe("success");
    // The reply was lost; the client retries: the same run, the node not run again.
    expect(await h.client.threads.continue(threadId, { idempotencyKey: "retry-1" })).toEqual(first);
    expect(counted(threadId, "booking")).toBe(2);
    await expect(
      h.client.threads.continue(threadId, { idempotencyKey: "retry-1", update: { booked: "no" } }),
    ).rejects.toMatchObject({ code: "IDEMPOTENCY_KEY_REUSED", differs: ["update"] });
    await expect(
      h.client.threads.resume(threadId, "yes", { idempotencyKey: "retry-1" }),
    ).rejects.toMatchObject({
      code: "IDEMPOTENCY_KEY_REUSED",
      differs: ["kind"],
    });
  });

  it("refuses a thread that finished, or that a run holds, saying why", async () => {
    const { runId, threadId } = await h.client.runs.start({ graphId: "ask-then-book", input: {} });
    await h.client.runs.wait(runId);
    await h.client.runs.wait((await h.client.threads.resume(threadId, "no")).runId);
    const done = await h.client.threads.continue(threadId);
    expect((await h.client.runs.wait(done.runId)).status).toBe("success");
    await expect(h.client.threads.continue(threadId)).rejects.toMatchObject({
      code: "NOT_INTERRUPTED",
      message: expect.stringContaining("nothing is left to run"),
    });
  });
});

describe("threads.continue after a run that was cancelled", () => {
  it("goes on from what the thread's first run committed, once its job let the thread go", async () => {
    const { runId, threadId } = await h.client.runs.start({ graphId: "three-steps", input: {} });
    await until(async () => counted(threadId, "s2") === 1, 10_000, "s2 never started");
    expect(await h.client.runs.cancel(runId)).toEqual({ status: "cancelled" });
    // s2 ignores its signal: its job holds the thread until s2 ends, and says so.
    await expect(h.client.threads.continue(threadId)).rejects.toMatchObject({
      code: "THREAD_BUSY",
      message: expect.stringContaining(`its run ${runId} was cancelled`),
    });
    await until(async () => (await h.client.threads.get(threadId)).status === "idle", 10_000, "never let go");
    expect((await h.client.threads.get(threadId)).next).toEqual(["s3"]);
    const again = await h.client.threads.continue(threadId);
    expect(await h.client.runs.wait(again.runId)).toMatchObject({ status: "success", values: { n: 111 } });
    expect(["s1", "s2", "s3"].map((node) => counted(threadId, node))).toEqual([1, 1, 1]);
  });

  it("waits again for the question of a parked run someone cancelled, and goes on with its answer", async () => {
    const { runId, threadId } = await h.client.runs.start({ graphId: "ask-then-book", input: {} });
    expect((await h.client.runs.wait(runId)).status).toBe("interrupted");
    expect(await h.client.runs.cancel(runId)).toEqual({ status: "cancelled" });
    // The node asks what the thread's head already holds: nothing new to store with the park.
    // Before, the park sent an empty list of writes, which the saver refused on every attempt
    // of the job: the run stayed pending and the thread busy for good.
    const again = await h.client.threads.continue(threadId);
    expect(await h.client.runs.wait(again.runId, { timeoutMs: 10_000 })).toMatchObject({
      status: "interrupted",
      interrupts: [{ value: "book LHR?" }],
    });
    // Answered, the node goes on with the answer (to this airline's 503 on a thread's first booking).
    const done = await h.client.threads.resume(threadId, "yes");
    expect(await h.client.runs.wait(done.runId)).toMatchObject({
      status: "error",
      error: { message: expect.stringContaining("airline: 503") },
    });
  });
});

describe("a resume cancelled before a worker took it", () => {
  it("gives its answer back: the question waits again, and a new answer runs", async () => {
    const { runId, threadId } = await h.client.runs.start({ graphId: "ask-then-book", input: {} });
    await h.client.runs.wait(runId);
    const [asked] = (await h.client.interrupts.list({ threadId, status: "pending" })).interrupts;
    await stopWorker(); // every worker busy or down: the resume's job waits in Redis
    const wrong = await h.client.threads.resume(threadId, "WRONG");
    await expect(h.client.threads.continue(threadId)).rejects.toMatchObject({ code: "THREAD_BUSY" });
    expect(await h.client.runs.cancel(wrong.runId)).toEqual({ status: "cancelled" });
    stopWorker = await h.startWorker({ id: "w2", graphs });
    // The cancelled run's job stops and hands the thread back to the question.
    await until(
      async () => (await h.client.threads.get(threadId)).status === "interrupted",
      10_000,
      "the cancelled run's job never gave the question back",
    );
    expect(
      (await h.client.interrupts.list({ threadId, status: "pending" })).interrupts.map((i) => i.id),
    ).toEqual([asked?.id]);
    const right = await h.client.threads.resume(threadId, "RIGHT");
    await expect(h.client.runs.wait(right.runId)).resolves.toMatchObject({ status: "error" }); // the 503
    const again = await h.client.threads.continue(threadId);
    expect(await h.client.runs.wait(again.runId)).toMatchObject({
      status: "success",
      values: { booked: "RIGHT" },
    });
  });
});
