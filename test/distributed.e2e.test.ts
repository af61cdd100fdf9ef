// Three real worker processes, 200 threads that park once or twice, resumes from this process,
// and one worker SIGKILLed in the middle: every run completes, each superstep commits once.
import type { ChildProcess } from "node:child_process";
import { once } from "node:events";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { checkpointForks, createHarness, type Harness, jobsInRedis } from "./support/harness.ts";
import { until } from "./support/until.ts";

const THREADS = 200;
let h: Harness;
let workers: ChildProcess[];

beforeAll(async () => {
  h = await createHarness("distributed");
  workers = await Promise.all(["w1", "w2", "w3"].map((id) => h.spawnWorker(id)));
}, 60_000);
afterAll(async () => {
  await h?.close();
});

async function runningOn(worker: string): Promise<number> {
  const { rows } = await h.pool.query(
    `SELECT count(*)::int AS n FROM "${h.schema}".runs WHERE status = 'running' AND last_worker = $1`,
    [worker],
  );
  return rows[0].n;
}

async function resumeAll(threadIds: string[], answer: (threadId: string) => string) {
  const runs = await Promise.all(threadIds.map((t) => h.client.threads.resume(t, answer(t))));
  return Promise.all(runs.map((r) => h.client.runs.wait(r.runId, { timeoutMs: 60_000 })));
}

describe("a fleet of worker processes", () => {
  it("parks 200 threads, resumes them on any replica, and survives a SIGKILLed worker", async () => {
    const started = await Promise.all(
      Array.from({ length: THREADS }, (_, i) =>
        h.client.runs.start({
          graphId: "approval",
          // The act node's delay outlasts the poll and the kill below by far, also on a loaded
          // machine: a run w2 is seen running (marked 50 ms into its job) is still in its node
          // when w2 dies, so there are orphans to recover.
          input: { item: `t${i}`, twice: i % 2 === 1, delayMs: 600 },
        }),
      ),
    );
    const first = await Promise.all(started.map((s) => h.client.runs.wait(s.runId, { timeoutMs: 60_000 })));
    expect(first.every((r) => r.status === "interrupted")).toBe(true);
    // Parked runs hold nothing in BullMQ: a job completes just after its run's event is
    // published (the settle commits, the event goes out, then BullMQ marks the job done).
    await until(async () => (await jobsInRedis(h)) === 0, 5_000);

    const answer = (t: string) => (t.charCodeAt(t.length - 1) % 3 === 0 ? "no" : "yes");
    const threadIds = started.map((s) => s.threadId);
    const round1 = resumeAll(threadIds, answer);
    // Mid-load: once w2 holds running jobs, SIGKILL it; the other two recover its jobs.
    await until(async () => (await runningOn("w2")) >= 3, 30_000);
    workers[1]?.kill("SIGKILL");
    const orphaned = await runningOn("w2");
    const afterFirst = await round1;
    const twice = afterFirst.filter((r) => r.status === "interrupted").map((r) => r.threadId);
    expect(twice).toHaveLength(THREADS / 2);
    const afterSecond = await resumeAll(twice, answer);
    expect(afterSecond.every((r) => r.status === "success")).toBe(true);
    expect(orphaned).toBeGreaterThan(0);
    // The runs w2 was running when it died were finished by the survivors.
    const { rows: recovered } = await h.pool.query(
      `SELECT count(*)::int AS n FROM "${h.schema}".runs WHERE last_worker <> 'w2' AND started_by = 'w2' AND kind = 'resume'`,
    );
    expect(recovered[0].n).toBeGreaterThan(0);

    for (const [i, s] of started.entries()) {
      const state = await h.client.threads.get(s.threadId);
      const answers = i % 2 === 1 ? [answer(s.threadId), answer(s.threadId)] : [answer(s.threadId)];
      const outcome = answers.every((a) => a === "yes") ? `approved t${i}` : `rejected t${i}`;
      expect(state.values).toMatchObject({ item: `t${i}`, answers, outcome, acted: true });
      expect(state.status).toBe("idle");
    }

    // Some thread was parked by one worker and resumed by another.
    const { rows: handoffs } = await h.pool.query(
      `SELECT count(*)::int AS n FROM "${h.schema}".runs p JOIN "${h.schema}".runs r
          ON r.thread_id = p.thread_id AND r.kind = 'resume' AND r.created_at > p.created_at
       WHERE p.parked_by IS NOT NULL AND r.started_by IS NOT NULL AND r.started_by <> p.parked_by`,
    );
    expect(handoffs[0].n).toBeGreaterThan(0);
    // Each superstep committed exactly once: no checkpoint has two children.
    const forks = await checkpointForks(h);
    expect(forks).toEqual([]);
    await until(async () => (await jobsInRedis(h)) === 0, 5_000);
  }, 180_000);

  it("stops a worker cleanly on SIGTERM: it finishes what it runs and exits 0", async () => {
    const survivor = workers[0] as ChildProcess;
    const { runId } = await h.client.runs.start({
      graphId: "approval",
      input: { item: "last", delayMs: 500 },
    });
    await h.client.runs.wait(runId);
    const { runId: resumed } = await h.client.threads.resume(
      (await h.client.runs.get(runId)).threadId,
      "yes",
    );
    const exited = once(survivor, "exit");
    await new Promise((resolve) => setTimeout(resolve, 100)); // the resume's slow step is running
    survivor.kill("SIGTERM");
    const [code] = await exited;
    expect(code).toBe(0);
    expect((await h.client.runs.wait(resumed)).status).toBe("success");
  }, 60_000);
});
