// runs.cancel of a run whose node is running reaches the node through `config.signal`, as
// LangGraph's nodes are given it: a slow call the node handed the signal stops at once.
import { afterAll, beforeAll, expect, it } from "vitest";
import { abortReasons, signalSeen } from "./fixtures/abortable.ts";
import { createHarness, type Harness } from "./support/harness.ts";
import { until } from "./support/until.ts";

let h: Harness;
beforeAll(async () => {
  h = await createHarness("cancel-signal");
  await h.startWorker({ id: "worker-signal" });
}, 60_000);
afterAll(async () => {
  await h?.close();
});

/** Waits until `check` holds, failing with `what` after `ms`. */

it("aborts the running node's signal: its call stops, the run stays cancelled, the thread is free", async () => {
  const { runId, threadId } = await h.client.runs.start({ graphId: "abortable", input: { delayMs: 30_000 } });
  await until(() => signalSeen.get(threadId) === "waiting", 10_000, "the node never started");
  expect(await h.client.runs.cancel(runId)).toEqual({ status: "cancelled" });
  await until(() => signalSeen.get(threadId) === "aborted", 3_000, "the node's signal was not aborted");
  // The cancel's reason, not the job's (its signal aborts on either): an AbortError naming the run.
  expect(abortReasons.get(threadId)).toEqual({ name: "AbortError", message: `Run ${runId} was cancelled.` });
  // The thread is handed on at once, not when the 30 s call would have ended.
  await until(
    async () => (await h.client.threads.get(threadId)).status === "idle",
    3_000,
    "the thread is still held",
  );
  const run = await h.client.runs.get(runId);
  expect(run).toMatchObject({ status: "cancelled" });
  expect(run).not.toHaveProperty("error.message");
  const again = await h.client.runs.start({ graphId: "abortable", threadId, input: { delayMs: 0 } });
  expect(await h.client.runs.wait(again.runId, { timeoutMs: 10_000 })).toMatchObject({
    status: "success",
    values: { done: true },
  });
}, 30_000);

it("leaves a node that finishes uncancelled alone: its signal never aborts", async () => {
  const { runId, threadId } = await h.client.runs.start({ graphId: "abortable", input: { delayMs: 50 } });
  expect(await h.client.runs.wait(runId, { timeoutMs: 10_000 })).toMatchObject({ status: "success" });
  expect(signalSeen.get(threadId)).toBe("done");
});
