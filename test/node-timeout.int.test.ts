// A node's timeout on the runtime: a node that hangs past its runTimeout fails its run with
// NodeTimeoutError (recorded on the run, its job ended), instead of holding a worker's slot for
// ever; with a retryPolicy, the next attempt runs and the run succeeds. In-process worker on
// real Postgres, Redis and BullMQ.
import { setTimeout as sleep } from "node:timers/promises";
import { START, StateGraph, StateSchema } from "@layover/graph";
import { afterAll, beforeAll, expect, it } from "vitest";
import { z } from "zod";
import { createHarness, type Harness } from "./support/harness.ts";

const State = new StateSchema({ hang: z.boolean(), done: z.boolean().default(false) });
let calls = 0;

/** A node calling an API that never answers on odd calls (it gives up when its signal aborts), timed at 300 ms. */
const callingApi = (maxAttempts: number) =>
  new StateGraph(State)
    .addNode(
      "call_api",
      async (state, config) => {
        calls += 1;
        if (state.hang && calls % 2 === 1)
          await sleep(60_000, undefined, { signal: config.signal as AbortSignal });
        return { done: true };
      },
      { timeout: 300, retryPolicy: { maxAttempts, initialInterval: 10 } },
    )
    .addEdge(START, "call_api")
    .compile();

const hanging = callingApi(1);
const retried = callingApi(2);

let h: Harness;
let stopWorker: () => Promise<void>;
beforeAll(async () => {
  h = await createHarness("node_timeout");
  stopWorker = await h.startWorker({ graphs: { hanging, retried } });
}, 60_000);
afterAll(async () => {
  await stopWorker?.();
  await h?.close();
});

it("fails a run whose node hangs past its timeout with NodeTimeoutError, promptly", async () => {
  calls = 0;
  const started = Date.now();
  const { runId } = await h.client.runs.start({ graphId: "hanging", input: { hang: true } });
  const result = await h.client.runs.wait(runId, { timeoutMs: 20_000 });
  expect(result).toMatchObject({
    status: "error",
    error: { name: "NodeTimeoutError", code: "NODE_TIMEOUT" },
  });
  expect(Date.now() - started).toBeLessThan(10_000);
}, 30_000);

it("runs the node again after a timed-out attempt when its retryPolicy allows, and the run succeeds", async () => {
  calls = 0;
  const { runId } = await h.client.runs.start({ graphId: "retried", input: { hang: true } });
  expect(await h.client.runs.wait(runId, { timeoutMs: 20_000 })).toMatchObject({
    status: "success",
    values: { done: true },
  });
  expect(calls).toBe(2);
}, 30_000);
