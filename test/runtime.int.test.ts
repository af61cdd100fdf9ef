// The producer client and in-process workers against real Postgres, Redis and BullMQ.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { countRows, createHarness, type Harness, parkedApproval } from "./support/harness.ts";

let h: Harness;

beforeAll(async () => {
  h = await createHarness("runtime");
  await h.startWorker({ id: "worker-a" });
}, 60_000);
afterAll(async () => {
  await h?.close();
});

const _count = (table: string) => countRows(h, table);
const parked = (item: string, twice = false) => parkedApproval(h, item, twice);

describe("runs that park and resume", () => {
  it("parks at interrupt(), shows the pending interrupt, and finishes when resumed", async () => {
    const { threadId, result } = await parked("flight");
    expect(result.interrupts).toEqual([
      expect.objectContaining({
        id: expect.any(String),
        value: { question: "approve flight?" },
        node: "review",
      }),
    ]);
    expect(result.values).toMatchObject({ item: "flight", outcome: "prepared flight" });
    const thread = await h.client.threads.get(threadId);
    expect(thread.status).toBe("interrupted");
    expect(thread.next).toEqual(["review"]);
    expect(thread.tasks).toEqual([
      {
        id: expect.any(String),
        name: "review",
        interrupts: [expect.objectContaining({ value: { question: "approve flight?" } })],
      },
    ]);
    // The wait and the thread read the interrupt in different statements: the same interrupt,
    // its times as Dates.
    expect(result.interrupts).toEqual(thread.tasks[0]?.interrupts);
    expect(result.interrupts[0]?.createdAt).toBeInstanceOf(Date);
    expect(thread.config.configurable).toMatchObject({
      thread_id: threadId,
      checkpoint_id: expect.any(String),
    });
    expect(thread.parentConfig?.configurable.checkpoint_id).toEqual(expect.any(String));
    expect(thread.metadata).toMatchObject({ source: "loop", run_id: result.runId });
    const history = [];
    for await (const checkpoint of h.client.threads.history(threadId)) history.push(checkpoint);
    expect(history[0]?.checkpointId).toBe(thread.config.configurable.checkpoint_id);
    expect(history.at(-1)?.metadata.source).toBe("input");

    const { runId } = await h.client.threads.resume(threadId, "yes");
    const done = await h.client.runs.wait(runId, { timeoutMs: 20_000 });
    expect(done.status).toBe("success");
    expect(done.values).toMatchObject({ outcome: "approved flight", answers: ["yes"] });
    expect((await h.client.threads.get(threadId)).status).toBe("idle");
  });

  it("refuses a thread id with half a surrogate pair: Postgres would spell it as another id (U+FFFD)", async () => {
    const threadId = `lone-\ud800-${Date.now()}`;
    await expect(
      h.client.runs.start({ graphId: "approval", threadId, input: { item: "van" } }),
    ).rejects.toMatchObject({
      code: "INVALID_INPUT",
      message: expect.stringContaining("half a surrogate pair"),
    });
    expect(await h.client.threads.runs(threadId)).toEqual([]);
    expect(await h.client.threads.runs(threadId.replace("\ud800", "\ufffd"))).toEqual([]);
  });

  it("asks twice in one node: each resume returns the next answer", async () => {
    const { threadId } = await parked("hotel", true);
    const first = await h.client.runs.wait((await h.client.threads.resume(threadId, "yes")).runId);
    expect(first.status).toBe("interrupted");
    expect(first.interrupts.map((i) => i.value)).toEqual([{ question: "really hotel?" }]);
    const second = await h.client.runs.wait((await h.client.threads.resume(threadId, "no")).runId);
    expect(second.values).toMatchObject({ answers: ["yes", "no"], outcome: "rejected hotel" });
  });

  it("runs a ten-step graph across several jobs when the in-process budget is small", async () => {
    const stop = await h.startWorker({ id: "worker-small-budget", budget: { steps: 2, ms: 1_000 } });
    const { runId } = await h.client.runs.start({ graphId: "linear", input: {} });
    const result = await h.client.runs.wait(runId);
    expect(result).toMatchObject({ status: "success", values: { count: 10 } });
    await stop();
  });

  it("shows a run running while a slow step runs; a quick one goes straight to its result", async () => {
    const { runId, threadId } = await h.client.runs.start({
      graphId: "approval",
      input: { item: "ferry", delayMs: 1_500 },
    });
    await h.client.runs.wait(runId);
    expect(await h.client.runs.get(runId)).toMatchObject({ status: "interrupted", startedBy: "worker-a" });
    const resumed = await h.client.threads.resume(threadId, "yes");
    let seen = (await h.client.runs.get(resumed.runId)).status;
    const deadline = Date.now() + 1_000;
    while (seen === "pending" && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 10));
      seen = (await h.client.runs.get(resumed.runId)).status;
    }
    expect(seen).toBe("running");
    expect(await h.client.runs.get(resumed.runId)).toMatchObject({ startedBy: "worker-a" });
    expect((await h.client.runs.wait(resumed.runId)).status).toBe("success");
  });

  it("records a failing node on the run and the thread", async () => {
    const { runId, threadId } = await h.client.runs.start({ graphId: "flaky", input: { fail: true } });
    const result = await h.client.runs.wait(runId);
    expect(result.status).toBe("error");
    expect(result.error).toMatchObject({ message: "the work failed" });
    // As the engine's getState: the node that failed is what the thread would run next.
    expect(await h.client.threads.get(threadId)).toMatchObject({ status: "error", next: ["work"] });
  });

  it("records what a node threw that is not an Error as its JSON, not [object Object]", async () => {
    const { runId } = await h.client.runs.start({ graphId: "throws-object", input: { card: "4242" } });
    const result = await h.client.runs.wait(runId, { timeoutMs: 10_000 });
    expect(result).toMatchObject({
      status: "error",
      error: { name: "ThrownValue", message: '{"status":402,"body":{"card":"4242"}}' },
    });
  });

  it("ends a run whose nodes' writes clash with an error, instead of retrying it forever", async () => {
    const { runId, threadId } = await h.client.runs.start({ graphId: "clashing", input: {} });
    const result = await h.client.runs.wait(runId, { timeoutMs: 10_000 });
    expect(result).toMatchObject({ status: "error", error: { code: "INVALID_UPDATE" } });
    expect((await h.client.threads.get(threadId)).status).toBe("error");
  });

  it("ends a run whose input only the graph's own schema refuses, instead of retrying it", async () => {
    const { runId } = await h.client.runs.start({ graphId: "picky", input: { amount: 3 } });
    const result = await h.client.runs.wait(runId, { timeoutMs: 10_000 });
    expect(result).toMatchObject({ status: "error", error: { code: "INVALID_INPUT" } });
    expect(result.error?.message).toContain("must be even");
    const paid = await h.client.runs.start({ graphId: "picky", input: { amount: 4 } });
    expect(await h.client.runs.wait(paid.runId)).toMatchObject({ status: "success", values: { paid: true } });
  });
});

describe("run context", () => {
  it("hands a start's config.context to the nodes, and a resume its own or else the start's", async () => {
    const { runId, threadId } = await h.client.runs.start({
      graphId: "contextual",
      input: {},
      config: { context: { userId: "ada" } },
    });
    expect((await h.client.runs.wait(runId)).values.seen).toEqual(["start for ada"]);
    await expect(
      h.client.threads.resume(threadId, "yes", { context: "grace" as unknown as Record<string, unknown> }),
    ).rejects.toMatchObject({ code: "INVALID_INPUT", message: expect.stringContaining("config.context") });
    const resumed = await h.client.threads.resume(threadId, "yes", { context: { userId: "grace" } });
    expect((await h.client.runs.wait(resumed.runId)).values.seen).toEqual(["start for ada", "yes for grace"]);
    // A resume given no context (as the timeout sweep's and an operator's are) takes the start's.
    const other = await h.client.runs.start({
      graphId: "contextual",
      input: {},
      config: { context: { userId: "ada" } },
    });
    await h.client.runs.wait(other.runId);
    const plain = await h.client.threads.resume(other.threadId, "fine");
    expect((await h.client.runs.wait(plain.runId)).values.seen).toEqual(["start for ada", "fine for ada"]);
  });

  it("a resume without context takes the start it answers, not a start queued behind it", async () => {
    const { runId, threadId } = await h.client.runs.start({
      graphId: "contextual-pair",
      input: {},
      config: { context: { userId: "ada" } },
    });
    const parked = await h.client.runs.wait(runId);
    const ids = new Map(parked.interrupts.map((i) => [i.value, i.id]));
    const left = await h.client.threads.resume(threadId, { [ids.get("left?") as string]: "L" });
    await h.client.runs.wait(left.runId);
    const queued = await h.client.runs.start({
      graphId: "contextual-pair",
      input: {},
      threadId,
      multitaskStrategy: "enqueue",
      config: { context: { userId: "bob" } },
    });
    const right = await h.client.threads.resume(threadId, { [ids.get("right?") as string]: "R" });
    const done = await h.client.runs.wait(right.runId);
    expect(done).toMatchObject({ status: "success", values: { left: "L L for ada", right: "R R for ada" } });
    expect((await h.client.runs.wait(queued.runId)).status).toBe("interrupted");
  });
});

describe("static breakpoints", () => {
  it("parks at interruptBefore and continues with threads.continue", async () => {
    const { runId, threadId } = await h.client.runs.start({ graphId: "gated", input: { count: 1 } });
    const paused = await h.client.runs.wait(runId);
    expect(paused).toMatchObject({ status: "interrupted", values: { count: 2 }, interrupts: [] });
    // What it waits before, as the engine's getState says (no interrupt to answer).
    expect(await h.client.threads.get(threadId)).toMatchObject({
      status: "interrupted",
      next: ["second"],
      tasks: [{ name: "second", interrupts: [] }],
    });
    await expect(h.client.threads.resume(threadId, "go")).rejects.toMatchObject({ code: "NOT_INTERRUPTED" });
    // In the engine's order (the graph's node order), however the edges were added.
    const pair = await h.client.runs.start({ graphId: "gated-pair", input: { count: 1 } });
    await h.client.runs.wait(pair.runId);
    expect((await h.client.threads.get(pair.threadId)).next).toEqual(["a", "b"]);
    const { runId: continued } = await h.client.threads.continue(threadId);
    expect(await h.client.runs.wait(continued)).toMatchObject({ status: "success", values: { count: 20 } });
    await expect(h.client.threads.continue(threadId)).rejects.toMatchObject({ code: "NOT_INTERRUPTED" });
  });

  it("continue with asNode and no update skips the node, recorded as in-process updateState(config, null, asNode)", async () => {
    const { runId, threadId } = await h.client.runs.start({ graphId: "gated", input: { count: 1 } });
    await h.client.runs.wait(runId);
    const { runId: skipped } = await h.client.threads.continue(threadId, { asNode: "second" });
    expect(await h.client.runs.wait(skipped)).toMatchObject({ status: "success", values: { count: 2 } });
    const history = [];
    for await (const checkpoint of h.client.threads.history(threadId)) history.push(checkpoint);
    const update = history.find((checkpoint) => checkpoint.metadata?.source === "update");
    expect(update?.metadata?.writes).toEqual({ second: null });
  });
});

describe("a continue the graph refuses", () => {
  it("fails its run and leaves the thread at its breakpoint, where a corrected continue goes on", async () => {
    const { runId, threadId } = await h.client.runs.start({
      graphId: "picky",
      input: { amount: 2 },
      config: { interruptBefore: ["pay"] },
    });
    expect(await h.client.runs.wait(runId)).toMatchObject({ status: "interrupted" });
    // An odd amount passes the producer's check (JSON Schema has no refinements); the engine refuses it.
    const odd = await h.client.threads.continue(threadId, { update: { amount: 3 } });
    expect(await h.client.runs.wait(odd.runId)).toMatchObject({
      status: "error",
      error: { code: "INVALID_INPUT", message: expect.stringContaining("must be even") },
    });
    expect(await h.client.threads.get(threadId)).toMatchObject({
      status: "interrupted",
      next: ["pay"],
      values: { amount: 2 },
    });
    const even = await h.client.threads.continue(threadId, { update: { amount: 4 }, asNode: "__start__" });
    expect(await h.client.runs.wait(even.runId)).toMatchObject({
      status: "success",
      values: { amount: 4, paid: true },
    });
  });
});

describe("a run's own breakpoints (LangGraph's invoke-time interruptBefore / interruptAfter)", () => {
  it("park the run before the node it names; threads.continue goes on without them", async () => {
    const { runId, threadId } = await h.client.runs.start({
      graphId: "linear",
      input: {},
      config: { interruptBefore: ["n5"] },
    });
    expect(await h.client.runs.wait(runId)).toMatchObject({ status: "interrupted", values: { count: 5 } });
    expect((await h.client.threads.get(threadId)).next).toEqual(["n5"]);
    const { runId: continued } = await h.client.threads.continue(threadId);
    expect(await h.client.runs.wait(continued)).toMatchObject({ status: "success", values: { count: 10 } });
  });

  it("naming a node the graph does not have, or not a list, are refused before anything is written", async () => {
    await expect(
      h.client.runs.start({ graphId: "linear", input: {}, config: { interruptAfter: ["send_email"] } }),
    ).rejects.toThrow(/"send_email", which is not a node of graph "linear"/);
    await expect(
      h.client.runs.start({
        graphId: "linear",
        input: {},
        config: { interruptBefore: "n5" as unknown as string[] },
      }),
    ).rejects.toMatchObject({ code: "INVALID_INPUT" });
  });
});

describe("runs queued behind a finishing run", () => {
  it("are never lost: a start queued while the thread's run settles runs next — 100 trials", async () => {
    // The worker settling run A and a producer queueing run B both touch the thread row. B must
    // either see A still busy and queue (then A's settle hands the thread to B) or see the
    // thread idle and take it; never queue behind a run that already released the thread.
    const trials = await Promise.all(
      Array.from({ length: 100 }, async (_, i) => {
        const first = await h.client.runs.start({ graphId: "linear", input: { count: i } });
        await new Promise((resolve) => setTimeout(resolve, i % 10));
        const second = await h.client.runs.start({
          graphId: "linear",
          input: { count: 0 },
          threadId: first.threadId,
          multitaskStrategy: "enqueue",
        });
        const results = [
          await h.client.runs.wait(first.runId, { timeoutMs: 20_000 }),
          await h.client.runs.wait(second.runId, { timeoutMs: 20_000 }),
        ];
        return results.map((result) => result.status);
      }),
    );
    expect(trials.filter((statuses) => statuses.join() !== "success,success")).toEqual([]);
  });
});

describe("partial resumes", () => {
  /** A fork thread waiting on both branches: its two interrupt ids, left first. */
  async function forked(delayMs: number) {
    const { runId, threadId } = await h.client.runs.start({ graphId: "fork", input: { delayMs } });
    await h.client.runs.wait(runId);
    const first = await h.client.threads.resume(threadId, "go", { idempotencyKey: `go-${threadId}` });
    const parked = await h.client.runs.wait(first.runId);
    const byValue = new Map(parked.interrupts.map((i) => [i.value, i.id]));
    return { threadId, first, left: byValue.get("left?") as string, right: byValue.get("right?") as string };
  }

  it("a retried resume returns its first run even when the thread now waits for two answers", async () => {
    const { threadId, first } = await forked(0);
    const again = await h.client.threads.resume(threadId, "go", { idempotencyKey: `go-${threadId}` });
    expect(again).toEqual(first);
  });

  it("the answer to the rest runs next, ahead of a start queued before it", async () => {
    const { threadId, left, right } = await forked(300);
    const leftRun = await h.client.threads.resume(threadId, { [left]: "L" });
    const queuedStart = await h.client.runs.start({
      graphId: "fork",
      input: {},
      threadId,
      multitaskStrategy: "enqueue",
    });
    const rightRun = await h.client.threads.resume(threadId, { [right]: "R" });
    expect((await h.client.runs.wait(leftRun.runId)).status).toBe("interrupted");
    const done = await h.client.runs.wait(rightRun.runId, { timeoutMs: 10_000 });
    expect(done).toMatchObject({ status: "success", values: { left: "L", right: "R" } });
    expect((await h.client.runs.wait(queuedStart.runId, { timeoutMs: 10_000 })).status).toBe("interrupted");
  });
});

describe("operations", () => {
  it("cancels a parked run: its interrupts are cancelled and the thread is free", async () => {
    const { runId, threadId } = await parked("bike");
    expect(await h.client.runs.cancel(runId)).toEqual({ status: "cancelled" });
    expect((await h.client.threads.get(threadId)).status).toBe("idle");
    const { interrupts } = await h.client.interrupts.list({ status: "cancelled", threadId });
    expect(interrupts.map((i) => i.threadId)).toContain(threadId);
    await expect(h.client.threads.resume(threadId, "yes")).rejects.toMatchObject({ code: "NOT_INTERRUPTED" });
  });

  it("lists pending interrupts oldest first, page by page", async () => {
    const mine = await Promise.all(["p1", "p2", "p3"].map((item) => parked(item)));
    const seen: string[] = [];
    let cursor: string | undefined;
    do {
      const page = await h.client.interrupts.list({
        status: "pending",
        graphId: "approval",
        limit: 2,
        ...(cursor ? { cursor } : {}),
      });
      seen.push(...page.interrupts.map((i) => i.threadId));
      cursor = page.nextCursor ?? undefined;
    } while (cursor);
    for (const { threadId } of mine) expect(seen.filter((t) => t === threadId)).toHaveLength(1);
  });

  it("re-enqueues a run whose job Redis lost", async () => {
    const stop = await h.startWorker({ id: "worker-reconcile" });
    const { threadId } = await parked("lost");
    // A resume recorded while its job never reached Redis: drop every job.
    await h.queue.pause();
    const { runId: resumeRun } = await h.client.threads.resume(threadId, "yes");
    await h.queue.obliterate({ force: true });
    await h.queue.resume();
    await h.pool.query(`UPDATE "${h.schema}".runs SET updated_at = now() - interval '1 hour' WHERE id = $1`, [
      resumeRun,
    ]);
    const requeued = await h.client.reconcile({ minAgeMs: 1_000 });
    expect(requeued.map((j) => j.runId)).toContain(resumeRun);
    expect((await h.client.runs.wait(resumeRun)).status).toBe("success");
    await stop();
  });
});
