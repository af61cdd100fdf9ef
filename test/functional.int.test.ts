// LangGraph's functional API (entrypoint, task) on workers: a workflow that asks a person inside a
// task parks like any graph, producers without its code read and answer it, and the tasks that
// finished before the question are not run again when the answer comes.
import { randomUUID } from "node:crypto";
import { InvalidInputError, InvalidResumeError } from "@layover/graph";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { executionsOf } from "./fixtures/executions.ts";
import { createHarness, type Harness } from "./support/harness.ts";
import { until } from "./support/until.ts";

let h: Harness;

beforeAll(async () => {
  h = await createHarness("functional");
  await h.startWorker({ id: "func-a", budget: { steps: 1, ms: 1_000 } });
  await h.startScheduler();
}, 60_000);
afterAll(async () => {
  await h?.close();
});

describe("the functional API on workers", () => {
  it("parks at a task's interrupt(), and on the answer runs only what had not finished", async () => {
    const { runId, threadId } = await h.client.runs.start({
      graphId: "booking-workflow",
      input: { route: "AMS-JFK" },
    });
    const paused = await h.client.runs.wait(runId, { timeoutMs: 20_000 });
    expect(paused.status).toBe("interrupted");
    expect(paused.interrupts.map((i) => i.value)).toEqual([
      { question: "Book this flight?", offer: { flight: "AMS-JFK-101", price: 420 } },
    ]);
    const thread = await h.client.threads.get(threadId);
    expect([thread.status, thread.values, thread.next]).toEqual(["interrupted", null, ["booking-workflow"]]);
    expect(thread.tasks.map((t) => [t.name, t.interrupts.length])).toEqual([["booking-workflow", 1]]);

    // The question's schema was stored with it: a producer refuses a wrong answer before anything changes.
    await expect(h.client.threads.resume(threadId, { approved: "yes" })).rejects.toThrow(InvalidResumeError);
    const { runId: resumed } = await h.client.threads.resume(threadId, { approved: true });
    const done = await h.client.runs.wait(resumed, { timeoutMs: 20_000 });
    expect([done.status, done.values]).toEqual([
      "success",
      { status: "booked", confirmation: "LO-AMS-JFK-101" },
    ]);
    expect(executionsOf(threadId)).toEqual({ search: 1, book: 1 });
    expect((await h.client.threads.get(threadId)).values).toEqual(done.values);
  });

  it("takes a resume with an empty update, as before entrypoints refused updates: it names no key to refuse", async () => {
    // The engine takes Command({ resume, update: {} }) on an entrypoint (no key, nothing to
    // write); producers did too until updates were refused for entrypoints outright. A client
    // that always sends an update (a form's edited fields, none edited) must still resume.
    const { runId, threadId } = await h.client.runs.start({
      graphId: "booking-workflow",
      input: { route: "AMS-LHR" },
    });
    expect((await h.client.runs.wait(runId, { timeoutMs: 20_000 })).status).toBe("interrupted");
    const { runId: resumed } = await h.client.threads.resume(threadId, { approved: false }, { update: {} });
    expect(await h.client.runs.wait(resumed, { timeoutMs: 20_000 })).toMatchObject({
      status: "success",
      values: { status: "rejected" },
    });
  });

  it("takes and returns values that are not objects, and gives each run the thread's last value", async () => {
    const threadId = randomUUID();
    const totals: unknown[] = [];
    for (const n of [5, 3, 4]) {
      const { runId } = await h.client.runs.start({ graphId: "running-total", input: n, threadId });
      totals.push((await h.client.runs.wait(runId, { timeoutMs: 20_000 })).values);
    }
    expect(totals).toEqual([5, 8, 12]);
    expect((await h.client.threads.get(threadId)).values).toBe(12);
  });

  it("runs on a schedule with an input that is not an object, each tick adding to the thread's total", async () => {
    const threadId = randomUUID();
    const cron = await h.client.crons.create({
      graphId: "running-total",
      schedule: "* * * * * *",
      input: 2,
      threadId,
    });
    try {
      await until(
        async () => ((await h.client.threads.get(threadId).catch(() => undefined))?.values as unknown) === 4,
        10_000,
        "two ticks' runs",
      );
    } finally {
      await h.client.crons.delete(cron.id);
    }
  });

  it("still refuses an input that is not an object for a StateGraph, with nothing written", async () => {
    await expect(h.client.runs.start({ graphId: "deferred-reduce", input: 5 })).rejects.toThrow(
      InvalidInputError,
    );
  });

  it("a continue as the entrypoint at its breakpoint is refused before anything is written, or gives the value back", async () => {
    // LangGraph.js 1.7.3: updateState(config, value, "running-total") then invoke(null) returns
    // the value (the workflow does not run). The engine takes no value for an entrypoint's
    // update (its state keys are internal), so the client must refuse it, writing nothing.
    const { runId, threadId } = await h.client.runs.start({
      graphId: "running-total",
      input: 5,
      config: { interruptBefore: ["running-total"] },
    });
    expect(await h.client.runs.wait(runId, { timeoutMs: 20_000 })).toMatchObject({ status: "interrupted" });
    const attempt = h.client.threads
      .continue(threadId, { update: { total: 7 }, asNode: "running-total" })
      .then(({ runId: continued }) => h.client.runs.wait(continued, { timeoutMs: 20_000 }));
    await expect(attempt).rejects.toMatchObject({ code: "INVALID_INPUT" });
    expect(await h.client.threads.runs(threadId)).toHaveLength(1);
  });
});
