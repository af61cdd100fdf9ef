// Deploys that change a graph while its threads wait for a person: threads parked by workers of
// one version (test/fixtures/deploy-graphs.ts) resumed, continued and read once workers of the
// next serve the graph. In-process workers on real Postgres, Redis and BullMQ.
import { createClient, type LayoverClient } from "@layover/runtime";
import { createWorker } from "@layover/worker";
import pino from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Version, versions } from "./fixtures/deploy-graphs.ts";
import { createHarness, type Harness } from "./support/harness.ts";

let h: Harness;

beforeAll(async () => {
  h = await createHarness("graph-versions");
}, 60_000);
afterAll(async () => {
  await h?.close();
});

const quiet = pino({ level: "silent" });
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** A worker serving `version`'s module, started (it registers its graphs). */
async function serve(version: Version, id: string = version, registerEveryMs?: number) {
  const worker = createWorker({
    ...(registerEveryMs === undefined ? {} : { registerEveryMs }),
    graphs: versions[version],
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

/** Runs `work` with workers of each version given, stopping them after. */
async function withWorkers<T>(versionsServed: Version[], work: () => Promise<T>): Promise<T> {
  const workers = [];
  for (const [i, version] of versionsServed.entries()) workers.push(await serve(version, `${version}-${i}`));
  try {
    return await work();
  } finally {
    for (const worker of workers) await worker.close();
  }
}

/**
 * A producer that has not read the graph's registration yet (the harness's client keeps what it
 * read for 5 s): what producers see once a deploy has registered.
 */
async function freshClient<T>(work: (client: LayoverClient) => Promise<T>): Promise<T> {
  const client = createClient({
    databaseUrl: h.databaseUrl,
    redisUrl: h.redisUrl,
    schema: h.schema,
    prefix: h.prefix,
    logger: quiet,
  });
  try {
    return await work(client);
  } finally {
    await client.close();
  }
}

/** A booking thread parked at v1's question (or at a static breakpoint before it). */
async function parkOnV1(item: string, atBreakpoint = false) {
  const { runId, threadId } = await h.client.runs.start({
    graphId: "booking",
    input: { item },
    ...(atBreakpoint ? { config: { interruptBefore: ["review"] } } : {}),
  });
  const parked = await h.client.runs.wait(runId, { timeoutMs: 20_000 });
  expect(parked.status).toBe("interrupted");
  return { threadId, parked };
}

/** The answer recorded on an interrupt, as Postgres holds it. */
async function recordedAnswer(interruptId: string) {
  const { rows } = await h.pool.query(
    `SELECT status, resolved_by, resume_value FROM "${h.schema}".interrupts WHERE id = $1`,
    [interruptId],
  );
  return rows[0];
}

describe("v2 adds a node after the question, adds fields with defaults and drops one", () => {
  it("resumes a thread parked by v1 through the new node, with the new fields at their defaults", async () => {
    const { threadId } = await withWorkers(["v1"], () => parkOnV1("grown"));
    await withWorkers(["grown"], async () => {
      const { runId } = await h.client.threads.resume(threadId, "yes", { resolvedBy: "alice" });
      const done = await h.client.runs.wait(runId, { timeoutMs: 20_000 });
      expect(done).toMatchObject({
        status: "success",
        values: {
          item: "grown",
          answer: "yes",
          priority: 1,
          notes: ["acted"],
          log: ["prepared grown", "answered yes", "acted on yes at priority 1"],
        },
      });
      // The dropped field's last value stays in the stored state (nodes of v2 do not see it).
      expect(done.values.legacy).toBe("kept");
      expect((await h.client.threads.get(threadId)).status).toBe("idle");
      const history = [];
      for await (const checkpoint of h.client.threads.history(threadId))
        history.push(checkpoint.metadata?.writes);
      expect(history[0]).toEqual({ act: { log: "acted on yes at priority 1", notes: "acted" } });
      // New starts are checked against v2's registration: the dropped field is refused.
      await freshClient(async (client) => {
        await expect(
          client.runs.start({ graphId: "booking", input: { item: "x", legacy: "old" } }),
        ).rejects.toMatchObject({ code: "INVALID_INPUT", message: expect.stringContaining("legacy") });
      });
    });
  });
});

describe("v2 renames the node threads wait in", () => {
  it("fails the resume and the continue with MissingNodeError naming the node; the answer stays; the thread starts again", async () => {
    const waiting = await withWorkers(["v1"], () => parkOnV1("renamed"));
    const atBreakpoint = await withWorkers(["v1"], () => parkOnV1("paused", true));
    const interruptId = waiting.parked.interrupts[0]?.id as string;
    await withWorkers(["renamed"], async () => {
      const resumed = await h.client.threads.resume(waiting.threadId, "yes", { resolvedBy: "alice" });
      const continued = await h.client.threads.continue(atBreakpoint.threadId);
      // Each job is handed back (a worker of the version that has the node may take it) until
      // its last attempt (BullMQ's backoff: about 30 s), which fails the run.
      const [failed, notRun] = await Promise.all([
        h.client.runs.wait(resumed.runId, { timeoutMs: 60_000 }),
        h.client.runs.wait(continued.runId, { timeoutMs: 60_000 }),
      ]);
      for (const run of [failed, notRun]) {
        expect(run.status).toBe("error");
        expect(run.error).toMatchObject({
          code: "MISSING_NODE",
          name: "MissingNodeError",
          message: expect.stringContaining('node "review", which this version of the graph does not have'),
        });
        expect(run.error?.message).toContain("its nodes: prepare, approve");
      }
      // The answer is on record, and not handed to anything else.
      expect(await recordedAnswer(interruptId)).toEqual({
        status: "resolved",
        resolved_by: "alice",
        resume_value: "yes",
      });
      const [listed] = (await h.client.interrupts.list({ threadId: waiting.threadId, status: "resolved" }))
        .interrupts;
      expect(listed).toMatchObject({ id: interruptId, node: "review", resolvedBy: "alice" });
      // The thread shows where it waits, and is free: a new start runs v2 from the beginning.
      const thread = await h.client.threads.get(waiting.threadId);
      expect(thread).toMatchObject({ status: "error", next: ["review"] });
      const again = await h.client.runs.start({
        graphId: "booking",
        threadId: waiting.threadId,
        input: { item: "again" },
      });
      const parkedAgain = await h.client.runs.wait(again.runId, { timeoutMs: 20_000 });
      expect(parkedAgain).toMatchObject({ status: "interrupted", interrupts: [{ node: "approve" }] });
      const done = await h.client.runs.wait((await h.client.threads.resume(waiting.threadId, "no")).runId, {
        timeoutMs: 20_000,
      });
      expect(done).toMatchObject({ status: "success", values: { answer: "no" } });
    });
  }, 120_000);

  it("hands the resume to a v1 worker while both versions run (a rolling deploy)", async () => {
    const { threadId } = await withWorkers(["v1"], () => parkOnV1("rolling"));
    const v2 = await serve("renamed");
    try {
      const { runId } = await h.client.threads.resume(threadId, "yes");
      // v2 takes the job first (it is the only worker) and hands it back…
      const jobs = await h.queue.getJobs(["waiting", "active", "delayed", "completed", "failed"]);
      const job = jobs.find((j) => j.data.runId === runId);
      for (let i = 0; ; i++) {
        const state = await h.queue.getJob(job?.id as string);
        if ((state?.attemptsMade ?? 0) > 0) break;
        if (i > 400) throw new Error("the v2 worker never took the job");
        await sleep(25);
      }
      expect((await h.client.runs.get(runId)).status).toBe("pending");
      // …and once a v1 worker runs beside it, the run finishes there.
      await withWorkers(["v1"], async () => {
        const done = await h.client.runs.wait(runId, { timeoutMs: 30_000 });
        expect(done).toMatchObject({ status: "success", values: { answer: "yes" } });
      });
    } finally {
      await v2.close();
    }
  }, 60_000);
});

describe("v2 changes the question's answer schema", () => {
  it("takes answers to questions v1 asked in v1's shape, and asks new questions in v2's", async () => {
    const old = await withWorkers(["v1"], () => parkOnV1("old-shape"));
    await withWorkers(["new-answer"], async () => {
      // Checked against the schema stored when v1 asked: v2's shape is refused, v1's taken.
      await expect(h.client.threads.resume(old.threadId, { choice: "yes" })).rejects.toMatchObject({
        code: "INVALID_RESUME",
      });
      const { runId } = await h.client.threads.resume(old.threadId, "yes");
      expect(await h.client.runs.wait(runId, { timeoutMs: 20_000 })).toMatchObject({
        status: "success",
        values: { answer: "yes" },
      });
      const fresh = await h.client.runs.start({ graphId: "booking", input: { item: "new-shape" } });
      const asked = await h.client.runs.wait(fresh.runId, { timeoutMs: 20_000 });
      expect(asked.interrupts[0]?.resumeSchema).toMatchObject({ type: "object", required: ["choice"] });
      await expect(h.client.threads.resume(fresh.threadId, "yes")).rejects.toMatchObject({
        code: "INVALID_RESUME",
      });
      const answered = await h.client.threads.resume(fresh.threadId, { choice: "no" });
      expect(await h.client.runs.wait(answered.runId, { timeoutMs: 20_000 })).toMatchObject({
        status: "success",
        values: { answer: "no" },
      });
    });
  });
});

describe("v2 changes a reducer and the input schema", () => {
  it("folds v1 threads' next writes with v2's reducer, and checks new starts against v2's schema", async () => {
    const { threadId } = await withWorkers(["v1"], () => parkOnV1("reduced"));
    await withWorkers(["replaced"], async () => {
      const { runId } = await h.client.threads.resume(threadId, "yes");
      // v2's log keeps the last value written: v1's entries give way to v2's.
      expect(await h.client.runs.wait(runId, { timeoutMs: 20_000 })).toMatchObject({
        status: "success",
        values: { log: ["answered yes"], answer: "yes" },
      });
      // New starts are checked against v2's registration: the key v1 refused is taken.
      await freshClient(async (client) => {
        const started = await client.runs.start({
          graphId: "booking",
          input: { item: "x", requester: "bob" },
        });
        expect(await client.runs.wait(started.runId, { timeoutMs: 20_000 })).toMatchObject({
          status: "interrupted",
          values: { log: ["prepared x for bob"] },
        });
      });
    });
  });
});

describe("v2 no longer serves the graph", () => {
  it("keeps resumes pending, not failed; an operator cancels and deletes, or rolls back", async () => {
    const kept = await withWorkers(["v1"], () => parkOnV1("kept"));
    const dropped = await withWorkers(["v1"], () => parkOnV1("dropped"));
    const droppedInterrupt = dropped.parked.interrupts[0]?.id as string;
    const [keptRun, droppedRun] = await withWorkers(["removed"], async () => {
      const runs = [
        (await h.client.threads.resume(kept.threadId, "yes")).runId,
        (await h.client.threads.resume(dropped.threadId, "no")).runId,
      ];
      await expect(h.client.runs.wait(runs[0] as string, { timeoutMs: 1_500 })).rejects.toMatchObject({
        code: "WAIT_TIMEOUT",
      });
      for (const runId of runs) expect((await h.client.runs.get(runId)).status).toBe("pending");
      // A thread with a run pending is not deleted: cancel the run first. Its job hands the
      // thread on at its next attempt (or reconciliation's), though no worker serves the graph.
      await expect(h.client.threads.delete(dropped.threadId)).rejects.toMatchObject({ code: "THREAD_BUSY" });
      expect(await h.client.runs.cancel(runs[1] as string)).toEqual({ status: "cancelled" });
      for (let i = 0; (await h.client.threads.get(dropped.threadId)).status === "busy"; i++) {
        if (i > 400) throw new Error("the cancelled run never handed its thread on");
        await sleep(50);
      }
      // The answer it carried, never used, is withdrawn: the question waits again.
      expect(await recordedAnswer(droppedInterrupt)).toMatchObject({ status: "pending", resume_value: null });
      expect(await h.client.threads.delete(dropped.threadId)).toMatchObject({ runs: 2, interrupts: 1 });
      return runs as [string, string];
    });
    await expect(h.client.runs.get(droppedRun)).rejects.toMatchObject({ code: "RUN_NOT_FOUND" });
    // Rolled back: the pending resume runs.
    await withWorkers(["v1"], async () => {
      expect(await h.client.runs.wait(keptRun, { timeoutMs: 30_000 })).toMatchObject({
        status: "success",
        values: { answer: "yes" },
      });
    });
  }, 60_000);
});

describe("two versions registering the graph at once (a rolling deploy)", () => {
  /** Whether a producer that reads the registration now takes an input only v2 knows. */
  const takesV2Input = () =>
    freshClient((client) =>
      client.runs.start({ graphId: "booking", input: { item: "probe", requester: "bob" } }).then(
        () => true,
        (error: { code?: string }) => {
          if (error.code !== "INVALID_INPUT") throw error;
          return false;
        },
      ),
    );

  it("checks inputs against the newest version a live worker serves, not the last worker started", async () => {
    const heartbeatMs = 200;
    const v1 = await serve("v1", "v1-first", heartbeatMs);
    const v2 = await serve("replaced", "v2", heartbeatMs);
    let v2Running = true;
    const restarted = await serve("v1", "v1-restarted", heartbeatMs);
    try {
      // v2 is deployed; a v1 replica that restarts meanwhile does not take the registration back.
      expect(await takesV2Input()).toBe(true);
      await sleep(heartbeatMs * 2); // heartbeats of both versions
      expect(await takesV2Input()).toBe(true);
      // Rolled back: once v2's workers have been gone for three heartbeats, v1's registration holds.
      await v2.close();
      v2Running = false;
      for (let i = 0; await takesV2Input(); i++) {
        if (i > 100) throw new Error("v1's registration never took over from the stopped v2");
        await sleep(50);
      }
      await sleep(heartbeatMs * 2);
      expect(await takesV2Input()).toBe(false);
    } finally {
      if (v2Running) await v2.close();
      await restarted.close();
      await v1.close();
    }
  });

  it("hands a start only v2 takes from a v1 worker to a v2 one, instead of failing it", async () => {
    const v1 = await serve("v1", "v1-old");
    // v2's first worker registers it, then stops: v2 stays current while it is live (three
    // heartbeats), as mid-way through a deploy; the v1 worker learns so when its graph refuses.
    await (await serve("replaced", "v2-registers")).close();
    try {
      const started = await freshClient((client) =>
        client.runs.start({ graphId: "booking", input: { item: "new-field", requester: "bob" } }),
      );
      // The v1 worker's graph refuses `requester`; producers checked it against v2: handed back.
      const jobs = await h.queue.getJobs(["waiting", "active", "delayed", "completed", "failed"]);
      const jobId = jobs.find((job) => job.data.runId === started.runId)?.id as string;
      for (let i = 0; ((await h.queue.getJob(jobId))?.attemptsMade ?? 0) === 0; i++) {
        if (i > 400) throw new Error("the v1 worker never took the job");
        await sleep(25);
      }
      expect((await h.client.runs.get(started.runId)).status).toBe("pending");
      await withWorkers(["replaced"], async () => {
        expect(await h.client.runs.wait(started.runId, { timeoutMs: 30_000 })).toMatchObject({
          status: "interrupted",
          values: { log: ["prepared new-field for bob"], requester: "bob" },
        });
      });
    } finally {
      await v1.close();
    }
  }, 60_000);
});
