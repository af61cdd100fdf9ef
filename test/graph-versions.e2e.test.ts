// Deploys with real worker processes: two versions of a graph served side by side (a rolling
// deploy), and a graph no worker serves any more, cleaned up by an operator with layover-admin.
// Each worker process serves a version of test/fixtures/deploy-graphs.ts (LAYOVER_TEST_GRAPHS).
import { type ChildProcess, execFile, spawn } from "node:child_process";
import { once } from "node:events";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { serviceEnv } from "@layover/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Version } from "./fixtures/deploy-graphs.ts";
import { createHarness, type Harness } from "./support/harness.ts";

let h: Harness;
const children: ChildProcess[] = [];

beforeAll(async () => {
  h = await createHarness("graph-versions-e2e");
}, 60_000);
afterAll(async () => {
  for (const child of children) if (child.exitCode === null) child.kill("SIGKILL");
  await h?.close();
});

const WORKER = fileURLToPath(new URL("../services/worker/src/cli.ts", import.meta.url));
const ADMIN = fileURLToPath(new URL("../services/scheduler/src/admin-cli.ts", import.meta.url));
const GRAPHS = fileURLToPath(new URL("./fixtures/deploy-graphs.ts", import.meta.url));
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** A worker process serving `version` of the deploy graphs, once it has started. */
async function spawnWorker(version: Version, id: string): Promise<ChildProcess> {
  const child = spawn(process.execPath, [WORKER, "--graphs", GRAPHS], {
    env: serviceEnv(h.deployment, { WORKER_ID: id, LOG_LEVEL: "info", LAYOVER_TEST_GRAPHS: version }),
    stdio: ["ignore", "pipe", "inherit"],
  });
  children.push(child);
  let output = "";
  await new Promise<void>((resolve, reject) => {
    const stdout = child.stdout as NodeJS.ReadableStream;
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      if (!output.includes("worker started")) return;
      stdout.off("data", onData);
      stdout.resume();
      resolve();
    };
    stdout.on("data", onData);
    once(child, "exit").then(([code]) => reject(new Error(`worker ${id} exited (${code}):\n${output}`)));
  });
  return child;
}

/** SIGTERM, as a deploy stops a replica: it finishes or hands back its jobs, then exits 0. */
async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return;
  const exited = once(child, "exit");
  child.kill("SIGTERM");
  expect((await exited)[0]).toBe(0);
}

function admin(...args: string[]) {
  return promisify(execFile)(process.execPath, [ADMIN, ...args], { env: serviceEnv(h.deployment) });
}

async function parked(item: string) {
  const { runId, threadId } = await h.client.runs.start({ graphId: "booking", input: { item } });
  expect(await h.client.runs.wait(runId, { timeoutMs: 20_000 })).toMatchObject({ status: "interrupted" });
  return threadId;
}

describe("a rolling deploy that renames the node threads wait in", () => {
  it("finishes every resume on the old version while it runs, then serves new threads on the new one", async () => {
    const v1 = await spawnWorker("v1", "v1");
    const threads = await Promise.all(["a", "b", "c", "d", "e", "f"].map((item) => parked(item)));
    const v2 = await spawnWorker("renamed", "v2");
    try {
      const runs = await Promise.all(threads.map((t) => h.client.threads.resume(t, "yes")));
      const done = await Promise.all(runs.map((r) => h.client.runs.wait(r.runId, { timeoutMs: 30_000 })));
      for (const run of done) expect(run).toMatchObject({ status: "success", values: { answer: "yes" } });
      await stop(v1);
      const { runId } = await h.client.runs.start({ graphId: "booking", input: { item: "new" } });
      expect(await h.client.runs.wait(runId, { timeoutMs: 20_000 })).toMatchObject({
        status: "interrupted",
        interrupts: [{ node: "approve" }],
      });
    } finally {
      await stop(v1);
      await stop(v2);
    }
  }, 60_000);
});

describe("a graph no worker serves any more", () => {
  it("keeps its resume pending; an operator cancels it and deletes the thread with layover-admin", async () => {
    const v1 = await spawnWorker("v1", "v1-before");
    const threadId = await parked("orphan");
    await stop(v1);
    const removed = await spawnWorker("removed", "without-booking");
    try {
      const { runId } = await h.client.threads.resume(threadId, "yes");
      // Handed back on every attempt (BullMQ's backoff: about 30 s), then failed; not the run.
      const jobId = (await h.queue.getJobs(["waiting", "active", "delayed"])).find(
        (job) => job.data.runId === runId,
      )?.id as string;
      for (let i = 0; (await h.queue.getJobState(jobId)) !== "failed"; i++) {
        if (i > 1_000) throw new Error("the job never failed its attempts");
        await sleep(100);
      }
      expect((await h.queue.getJob(jobId))?.failedReason).toContain('does not serve graph "booking"');
      expect((await h.client.runs.get(runId)).status).toBe("pending");
      // The operator finds the run from the refusal, cancels it, and deletes the thread once a
      // worker has handed it on (reconciliation enqueues the cancelled run's job again at once).
      const refused = await admin("delete-thread", threadId).catch((error: { stderr: string }) => error);
      expect(refused).toMatchObject({ stderr: expect.stringContaining(runId) });
      expect((await admin("cancel", runId)).stdout).toContain(`cancelled run ${runId}`);
      const stopScheduler = await h.startScheduler({ reconcileEveryMs: 500 });
      try {
        for (let i = 0; (await h.client.threads.get(threadId)).status === "busy"; i++) {
          if (i > 100) throw new Error("the cancelled run's thread was not handed on");
          await sleep(100);
        }
      } finally {
        await stopScheduler();
      }
      expect((await admin("delete-thread", threadId)).stdout).toContain(`deleted thread ${threadId}: 2 runs`);
      await expect(h.client.threads.get(threadId)).rejects.toMatchObject({ code: "THREAD_NOT_FOUND" });
    } finally {
      await stop(removed);
    }
  }, 90_000);
});
