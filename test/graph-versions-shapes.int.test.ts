// A rolling deploy's changes the root graph's checkpoint does not show: a node renamed inside a
// subgraph a thread waits in, a join given another source, a node renamed that a producer's
// breakpoint names. A worker of the version without what the thread needs hands the job back,
// and one of the version with it runs it. Before, the subgraph's run failed on its first attempt
// (MISSING_NODE), the join's with "Unknown channel join:a+b:c" (INVALID_UPDATE), and the start's
// refused breakpoint failed every attempt of its job, and reconciliation's after them, the run
// pending for good.
import { createClient } from "@layover/runtime";
import { createWorker } from "@layover/worker";
import pino from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { shapeVersions } from "./fixtures/deploy-shapes.ts";
import { createHarness, type Harness } from "./support/harness.ts";

let h: Harness;
beforeAll(async () => {
  h = await createHarness("graph_versions_shapes");
}, 60_000);
afterAll(async () => {
  await h?.close();
});

const quiet = pino({ level: "silent" });
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
type Version = keyof typeof shapeVersions;

async function serve(version: Version, id: string) {
  const worker = createWorker({
    graphs: shapeVersions[version],
    databaseUrl: h.databaseUrl,
    redisUrl: h.redisUrl,
    schema: h.schema,
    prefix: h.prefix,
    workerId: id,
    logger: quiet,
  });
  await worker.start();
  return worker;
}

/** A thread of `graphId` started and parked by a v1 worker, which then stops. */
async function parkedOnV1(graphId: string, input: Record<string, unknown> = {}) {
  const v1 = await serve("v1", `v1-parks-${graphId}`);
  try {
    const { runId, threadId } = await h.client.runs.start({ graphId, input });
    expect((await h.client.runs.wait(runId, { timeoutMs: 20_000 })).status).toBe("interrupted");
    return threadId;
  } finally {
    await v1.close();
  }
}

/** Waits until a worker has taken run `runId`'s job at least once (and handed it back). */
async function takenOnce(runId: string) {
  for (let i = 0; i <= 400; i++) {
    const jobs = await h.queue.getJobs(["waiting", "active", "delayed", "completed", "failed"]);
    const job = jobs.find((j) => j.data.runId === runId);
    if ((job?.attemptsMade ?? 0) > 0) return;
    await sleep(25);
  }
  throw new Error(`no worker took run ${runId}'s job`);
}

/** A v2 worker takes the run's job alone, hands it back; then a v1 worker beside it gives `wait`'s result. */
async function handedToV1(runId: string, tag: string) {
  const v2 = await serve("v2", `v2-first-${tag}`);
  try {
    await takenOnce(runId);
    expect((await h.client.runs.get(runId)).status).toBe("pending");
    const v1 = await serve("v1", `v1-finishes-${tag}`);
    try {
      return await h.client.runs.wait(runId, { timeoutMs: 30_000 });
    } finally {
      await v1.close();
    }
  } finally {
    await v2.close();
  }
}

describe("v2 renames the node a thread waits in inside a subgraph", () => {
  it("hands the resume from a v2 worker to a v1 one, which finishes it with the answer: a subgraph as a node", async () => {
    const threadId = await parkedOnV1("sub-node");
    const { runId } = await h.client.threads.resume(threadId, "Ada");
    expect(await handedToV1(runId, "sub-node")).toMatchObject({
      status: "success",
      values: { name: "Ada", trail: ["after Ada"] },
    });
  }, 60_000);

  it("fails the resume at once for a subgraph called from a node's code (whose code would run at each hand-back), keeping the answer for a rollback", async () => {
    const threadId = await parkedOnV1("sub-call");
    const v2 = await serve("v2", "v2-sub-call");
    let runId: string;
    try {
      ({ runId } = await h.client.threads.resume(threadId, "Ada"));
      expect(await h.client.runs.wait(runId, { timeoutMs: 20_000 })).toMatchObject({
        status: "error",
        error: {
          code: "MISSING_NODE",
          message: expect.stringContaining(
            'node "ask", which this version of the graph does not have in its subgraph at "caller"',
          ),
        },
      });
    } finally {
      await v2.close();
    }
    // Rolled back, the thread goes on with the answer the failed run took.
    const v1 = await serve("v1", "v1-rolled-back");
    try {
      const again = await h.client.threads.continue(threadId);
      expect(await h.client.runs.wait(again.runId, { timeoutMs: 20_000 })).toMatchObject({
        status: "success",
        values: { name: "Ada", trail: ["after Ada"] },
      });
    } finally {
      await v1.close();
    }
  }, 60_000);
});

describe("v2 gives the join a thread waits before another source", () => {
  it("hands the resume from a v2 worker to a v1 one, which joins as v1 did", async () => {
    const threadId = await parkedOnV1("joined");
    const { runId } = await h.client.threads.resume(threadId, "yes");
    expect(await handedToV1(runId, "joined")).toMatchObject({
      status: "success",
      values: { trail: ["a:yes", "b", "c"] },
    });
  }, 60_000);
});

describe("v2 renames the node a producer's breakpoint names", () => {
  it("fails a start a v1 worker refuses for its breakpoint on its job's last attempt, sending nothing", async () => {
    const v1 = await serve("v1", "v1-mail");
    // v2's first worker registers it and stops: producers check against v2 while it is live.
    await (await serve("v2", "v2-registers")).close();
    const client = createClient({
      databaseUrl: h.databaseUrl,
      redisUrl: h.redisUrl,
      schema: h.schema,
      prefix: h.prefix,
      logger: quiet,
    });
    try {
      const { runId } = await client.runs.start({
        graphId: "mail",
        input: { to: "ann" },
        config: { interruptBefore: ["deliver_email"] },
      });
      // Handed back on each attempt (a v2 worker may come), then failed (BullMQ's backoff: about 30 s).
      expect(await h.client.runs.wait(runId, { timeoutMs: 60_000 })).toMatchObject({
        status: "error",
        values: {},
        error: {
          code: "INVALID_INPUT",
          message: expect.stringContaining('names "deliver_email", which is not a node of graph "mail"'),
        },
      });
    } finally {
      await client.close();
      await v1.close();
    }
  }, 90_000);
});
