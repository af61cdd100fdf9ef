// crons.delete and the thread a cron made: a run its tick started that a worker runs is not
// cancelled (only runs queued behind the thread's run are), and a thread no run ever took is
// given back, free for any graph, as if the cron had never been.
import { randomUUID } from "node:crypto";
import { createWorker } from "@layover/worker";
import pino from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { graphs } from "./fixtures/graphs.ts";
import { gate } from "./fixtures/held-node.ts";
import { createHarness, type Harness } from "./support/harness.ts";
import { until } from "./support/until.ts";

let h: Harness;
beforeAll(async () => {
  h = await createHarness("crons-delete");
}, 60_000);
afterAll(async () => {
  await h?.close();
});

describe("crons.delete", () => {
  it("leaves a run its tick started alone while a worker runs it, though the run still reads pending", async () => {
    // A worker marks a run running once its job has taken markRunningAfterMs (50 ms by default)
    // or stored a superstep: until then a run whose node runs reads "pending". Widened here.
    const worker = createWorker({
      ...h.deployment,
      graphs,
      workerId: "crons-delete-begun",
      markRunningAfterMs: 600_000,
      logger: pino({ level: "silent" }),
    });
    await worker.start();
    const stopScheduler = await h.startScheduler({ id: "crons-delete-begun" });
    const tag = randomUUID();
    const threadId = `begun-${tag}`;
    try {
      const cron = await h.client.crons.create({
        graphId: "held-node",
        schedule: "* * * * * *",
        input: { gate: tag },
        threadId,
      });
      await until(() => gate(tag).reached, 15_000, "no tick's run reached its node");
      await stopScheduler();
      const [run] = (await h.client.threads.runs(threadId)) as Array<{ runId: string; status: string }>;
      expect(run?.status).toBe("pending");
      expect(await h.client.crons.delete(cron.id)).toBe(true);
      gate(tag).open();
      expect((await h.client.runs.wait(run?.runId as string, { timeoutMs: 15_000 })).status).toBe("success");
    } finally {
      gate(tag).open();
      await stopScheduler();
      await worker.close();
    }
  }, 60_000);

  it("of a cron no run ever ticked on gives its thread back: another graph may start on it", async () => {
    const threadId = `never-ticked-${randomUUID()}`;
    const cron = await h.client.crons.create({
      graphId: "linear",
      schedule: "0 0 1 1 *",
      input: {},
      threadId,
    });
    await expect(h.client.runs.start({ graphId: "flaky", input: {}, threadId })).rejects.toMatchObject({
      code: "INVALID_INPUT",
    });
    expect(await h.client.crons.delete(cron.id)).toBe(true);
    await expect(h.client.threads.get(threadId)).rejects.toMatchObject({ code: "THREAD_NOT_FOUND" });
    expect(await h.client.runs.start({ graphId: "flaky", input: {}, threadId })).toMatchObject({ threadId });
  });

  it("of a cron on a thread runs used keeps the thread, its runs and its state", async () => {
    const { runId, threadId } = await h.client.runs.start({ graphId: "linear", input: {} });
    const stop = await h.startWorker();
    try {
      expect((await h.client.runs.wait(runId)).status).toBe("success");
    } finally {
      await stop();
    }
    const cron = await h.client.crons.create({
      graphId: "linear",
      schedule: "0 0 1 1 *",
      input: {},
      threadId,
    });
    expect(await h.client.crons.delete(cron.id)).toBe(true);
    expect(await h.client.threads.get(threadId)).toMatchObject({ status: "idle", values: { count: 10 } });
  });
});
