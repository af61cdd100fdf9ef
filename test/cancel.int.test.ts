// runs.cancel in each state a run can be in, and what a producer tolerates on the run channel.
import { createClient, stepJobId } from "@layover/runtime";
import { Redis } from "ioredis";
import pino from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createHarness, type Harness, runAndQueuedRun } from "./support/harness.ts";
import { until } from "./support/until.ts";

let h: Harness;
let stopWorker: () => Promise<void>;
const startWorker = async () => {
  // A budget that never runs out: a job runs a whole run unless it is told to stop.
  stopWorker = await h.startWorker({ id: "worker-cancel", budget: { steps: 100, ms: 60_000 } });
};
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

beforeAll(async () => {
  h = await createHarness("cancel");
  await startWorker();
}, 60_000);
afterAll(async () => {
  await h?.close();
});

/** The fork graph parked at its two parallel questions, left? and right?. */
async function forkAtTwoQuestions(delayMs: number) {
  const { runId, threadId } = await h.client.runs.start({ graphId: "fork", input: { delayMs } });
  await h.client.runs.wait(runId);
  const parked = await h.client.runs.wait((await h.client.threads.resume(threadId, "go")).runId);
  const ids = new Map(parked.interrupts.map((i) => [i.value, i.id]));
  return { threadId, left: ids.get("left?") as string, right: ids.get("right?") as string };
}

/** Waits for a cancelled resume's job to stop and give its answers back: the thread waits for them again. */
const givenBack = (threadId: string) =>
  until(
    async () => (await h.client.threads.get(threadId)).status === "interrupted",
    10_000,
    "the cancelled run's job never gave its answers back",
  );

describe("runs.cancel", () => {
  it("withdraws a queued resume's answers: the thread waits for them again", async () => {
    const { threadId, left, right } = await forkAtTwoQuestions(800);
    const leftRun = await h.client.threads.resume(threadId, { [left]: "L" });
    await sleep(100); // the left answer's run is running; the right one queues behind it
    const rightRun = await h.client.threads.resume(threadId, { [right]: "R" });
    expect(await h.client.runs.cancel(rightRun.runId)).toEqual({ status: "cancelled" });
    const afterLeft = await h.client.runs.wait(leftRun.runId);
    expect(afterLeft.status).toBe("interrupted");
    expect(afterLeft.interrupts.map((i) => i.id)).toEqual([right]);
    const done = await h.client.runs.wait((await h.client.threads.resume(threadId, "R2")).runId);
    expect(done).toMatchObject({ status: "success", values: { left: "L", right: "R2" } });
  });

  it("cancels the run a thread waits on even after a withdrawn resume, freeing the thread", async () => {
    const { threadId, left, right } = await forkAtTwoQuestions(800);
    const leftRun = await h.client.threads.resume(threadId, { [left]: "L" });
    await sleep(100);
    await h.client.runs.cancel((await h.client.threads.resume(threadId, { [right]: "R" })).runId);
    expect((await h.client.runs.wait(leftRun.runId)).status).toBe("interrupted");
    expect(await h.client.runs.cancel(leftRun.runId)).toEqual({ status: "cancelled" });
    expect((await h.client.threads.get(threadId)).status).toBe("idle");
    await expect(h.client.threads.resume(threadId, "R")).rejects.toMatchObject({ code: "NOT_INTERRUPTED" });
  });

  it("cancels a queued start once it runs and parks, though the resume before it was created later", async () => {
    const first = await h.client.runs.start({ graphId: "approval", input: { item: "a" } });
    await h.client.runs.wait(first.runId);
    const queued = await h.client.runs.start({
      graphId: "approval",
      threadId: first.threadId,
      input: { item: "b" },
      multitaskStrategy: "enqueue",
    });
    const answer = await h.client.threads.resume(first.threadId, "yes");
    expect((await h.client.runs.wait(answer.runId)).status).toBe("success");
    expect((await h.client.runs.wait(queued.runId)).status).toBe("interrupted");
    expect(await h.client.runs.cancel(queued.runId)).toEqual({ status: "cancelled" });
    expect((await h.client.threads.get(first.threadId)).status).toBe("idle");
  });

  it("a resume cancelled before its job ran gives its answer back once the job stops: the question waits again", async () => {
    const { runId, threadId } = await h.client.runs.start({ graphId: "approval", input: { item: "bus" } });
    await h.client.runs.wait(runId);
    await stopWorker();
    let held: { runId: string };
    try {
      held = await h.client.threads.resume(threadId, "yes");
      expect(await h.client.runs.cancel(held.runId)).toEqual({ status: "cancelled" });
      // No worker has stopped the run's job yet: the thread stays with it.
      expect((await h.client.threads.get(threadId)).status).toBe("busy");
    } finally {
      await startWorker();
    }
    await givenBack(threadId);
    const done = await h.client.runs.wait((await h.client.threads.resume(threadId, "no")).runId);
    expect(done.status).toBe("success");
  });

  it("a start queued behind a resume cancelled before its job ran waits with the questions it gave back", async () => {
    const { threadId, left, right } = await forkAtTwoQuestions(0);
    await stopWorker();
    let queuedStart: { runId: string };
    try {
      await h.client.runs.cancel((await h.client.threads.resume(threadId, { [left]: "L" })).runId);
      queuedStart = await h.client.runs.start({
        graphId: "fork",
        threadId,
        input: {},
        multitaskStrategy: "enqueue",
      });
    } finally {
      await startWorker();
    }
    await givenBack(threadId);
    const { interrupts } = await h.client.interrupts.list({ status: "pending", threadId });
    expect(interrupts.map((i) => i.id).sort()).toEqual([left, right].sort());
    // As a start enqueued on a thread waiting for a person: it runs once the questions are answered.
    expect((await h.client.runs.get(queuedStart.runId)).status).toBe("pending");
    const answered = await h.client.threads.resume(threadId, { [left]: "L2", [right]: "R2" });
    expect(await h.client.runs.wait(answered.runId)).toMatchObject({ values: { left: "L2", right: "R2" } });
    const parked = await h.client.runs.wait(queuedStart.runId);
    expect(parked.interrupts.map((i) => i.value)).toEqual(["go?"]);
  });

  it("only the cancelled run's current job hands the thread on, not a stale duplicate", async () => {
    const { first, queued: second } = await runAndQueuedRun(h, 1_000);
    await sleep(300); // the first run's job is inside s0
    await h.client.runs.cancel(first.runId);
    const stale = { threadId: first.threadId, runId: first.runId, checkpointId: "an-older-step" };
    await h.queue.add("step", stale, { jobId: stepJobId(stale) });
    await sleep(300);
    // The stale job ended at once; the first run's own job is still in s0: the thread waits for it.
    expect((await h.client.runs.get(second.runId)).status).toBe("pending");
    expect((await h.client.runs.wait(second.runId)).status).toBe("success");
  });

  it("a cancelled run holding its thread whose job Redis lost is handed on by reconcile", async () => {
    const { runId, threadId } = await h.client.runs.start({ graphId: "approval", input: { item: "ferry" } });
    await h.client.runs.wait(runId);
    await stopWorker();
    try {
      const held = await h.client.threads.resume(threadId, "yes");
      await h.client.runs.cancel(held.runId);
      const redis = new Redis(h.redisUrl);
      const keys = await redis.keys(`${h.prefix}:steps:*`);
      if (keys.length > 0) await redis.del(...keys); // the run's job is gone
      redis.disconnect();
    } finally {
      await startWorker();
    }
    await sleep(300);
    expect((await h.client.threads.get(threadId)).status).toBe("busy");
    expect((await h.client.reconcile({ minAgeMs: 0 })).length).toBeGreaterThan(0);
    const deadline = Date.now() + 10_000;
    // Its answer, never used, is given back: the thread waits for the question again.
    while ((await h.client.threads.get(threadId)).status !== "interrupted") {
      if (Date.now() > deadline) throw new Error("reconcile never freed the thread");
      await sleep(20);
    }
  });

  it("a resume cancelled as its job runs never leaves a question that cannot be answered — 20 trials", async () => {
    for (let trial = 0; trial < 20; trial++) {
      const { runId, threadId } = await h.client.runs.start({
        graphId: "approval",
        input: { item: `t${trial}` },
      });
      await h.client.runs.wait(runId);
      const resumed = await h.client.threads.resume(threadId, "yes");
      await sleep(trial % 4); // 0–3 ms: the job is starting, running or done
      await h.client.runs.cancel(resumed.runId);
      await sleep(150);
      const thread = await h.client.threads.get(threadId);
      expect(thread.status).not.toBe("error");
      if (thread.status !== "interrupted") continue;
      // Shown as waiting: answering must work.
      const again = await h.client.runs.wait((await h.client.threads.resume(threadId, "no")).runId);
      expect(again.status).toBe("success");
    }
  });

  it("a running partial resume, cancelled, finishes its step before the queued answer runs", async () => {
    const { threadId, left, right } = await forkAtTwoQuestions(600);
    const leftRun = await h.client.threads.resume(threadId, { [left]: "L" });
    await sleep(150); // its superstep (left's node, 600 ms) is running
    const rightRun = await h.client.threads.resume(threadId, { [right]: "R" });
    expect(await h.client.runs.cancel(leftRun.runId)).toEqual({ status: "cancelled" });
    // The step that was running when the run was cancelled lands; the queued answer runs after
    // it, from the head it left, never beside it.
    expect(await h.client.runs.wait(rightRun.runId)).toMatchObject({
      status: "success",
      values: { left: "L", right: "R" },
    });
    expect((await h.client.threads.get(threadId)).status).toBe("idle");
  });

  it("after cancelling a parked resume run, a resume is told the thread waits for nothing", async () => {
    const started = await h.client.runs.start({ graphId: "approval", input: { item: "cab", twice: true } });
    await h.client.runs.wait(started.runId);
    const again = await h.client.threads.resume(started.threadId, "yes");
    expect((await h.client.runs.wait(again.runId)).status).toBe("interrupted");
    expect(await h.client.runs.cancel(again.runId)).toEqual({ status: "cancelled" });
    // Saying the question was cancelled, and by whom: not only that nothing waits.
    await expect(h.client.threads.resume(started.threadId, "yes")).rejects.toMatchObject({
      code: "NOT_INTERRUPTED",
      message: expect.stringMatching(/was cancelled \(.+\) at /),
    });
    // By id too: a cancelled question was answered by nobody.
    const [asked] = (await h.client.interrupts.list({ status: "cancelled", threadId: started.threadId }))
      .interrupts;
    await expect(
      h.client.threads.resume(started.threadId, { [asked?.id as string]: "yes" }),
    ).rejects.toMatchObject({ code: "NOT_INTERRUPTED" });
  });

  it("leaves a parked run that was already answered, and the thread's current wait, alone", async () => {
    const first = await h.client.runs.start({ graphId: "approval", input: { item: "van", twice: true } });
    await h.client.runs.wait(first.runId);
    const second = await h.client.threads.resume(first.threadId, "yes");
    expect((await h.client.runs.wait(second.runId)).status).toBe("interrupted");
    expect(await h.client.runs.cancel(first.runId)).toEqual({ status: "interrupted" });
    const thread = await h.client.threads.get(first.threadId);
    expect(thread.status).toBe("interrupted");
    expect(await h.client.runs.get(second.runId)).toMatchObject({ status: "interrupted" });
    const done = await h.client.runs.wait((await h.client.threads.resume(first.threadId, "yes")).runId);
    expect(done).toMatchObject({ status: "success", values: { answers: ["yes", "yes"] } });
  });

  it.each([
    ["", (id: string) => id],
    [" given its id in upper case", (id: string) => id.toUpperCase()],
  ])("stops a running run before its next superstep%s", async (_, spell) => {
    const { runId, threadId } = await h.client.runs.start({ graphId: "slow-chain", input: { delayMs: 300 } });
    await sleep(450); // s0 is committed, s1 is running
    expect(await h.client.runs.cancel(spell(runId))).toEqual({ status: "cancelled" });
    expect((await h.client.runs.wait(runId)).status).toBe("cancelled");
    await sleep(900); // long enough for s2 and s3 to run if the worker went on
    const trail = (await h.client.threads.get(threadId)).values.trail as string[];
    expect(trail.length).toBeGreaterThanOrEqual(1);
    expect(trail.length).toBeLessThanOrEqual(2);
  });
});

describe("the producer's reads", () => {
  it("refuse ids that are not run ids with RunNotFoundError, not a Postgres error", async () => {
    for (const call of [
      () => h.client.runs.get("not-a-run"),
      () => h.client.runs.cancel("not-a-run"),
      () => h.client.runs.wait("not-a-run", { timeoutMs: 1_000 }),
    ]) {
      await expect(call()).rejects.toMatchObject({ code: "RUN_NOT_FOUND" });
    }
  });

  it("a waiter ignores anything else published on the run channel", async () => {
    const { runId } = await h.client.runs.start({ graphId: "slow-chain", input: { delayMs: 100 } });
    const waiting = h.client.runs.wait(runId);
    const redis = new Redis(h.redisUrl);
    await redis.publish(`${h.prefix}:run-events`, "not json");
    await redis.publish(`${h.prefix}:run-events`, "null");
    redis.disconnect();
    expect(await waiting).toMatchObject({ status: "success", values: { count: 5 } });
  });

  it("runs.wait answers from Postgres within its timeout when Redis cannot be reached", async () => {
    const { runId } = await h.client.runs.start({ graphId: "linear", input: {} });
    await h.client.runs.wait(runId);
    const cut = createClient({
      databaseUrl: h.databaseUrl,
      redisUrl: "redis://127.0.0.1:1", // nothing listens there
      schema: h.schema,
      prefix: h.prefix,
      logger: pino({ level: "silent" }),
    });
    const started = Date.now();
    expect(await cut.runs.wait(runId, { timeoutMs: 1_500 })).toMatchObject({ status: "success" });
    expect(Date.now() - started).toBeLessThan(1_500);
    void cut.close().catch(() => {});
  });
});
