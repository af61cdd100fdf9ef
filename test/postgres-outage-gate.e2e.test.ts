// Where holding a job while Postgres is away (postgresOutageGate) meets its edges, with worker
// processes reaching Postgres through a TCP proxy: a network that goes silent instead of
// refusing (a partition), a job whose own statement loses its connection while Postgres answers
// everyone else (it must not be held for ever), and a SIGTERM while Postgres is away (the jobs
// still running then keep their attempts, and the worker exits cleanly).
import type { ChildProcess } from "node:child_process";
import { once } from "node:events";
import { tcpProxy } from "@layover/testing";
import { afterEach, describe, expect, it, onTestFailed } from "vitest";
import { createHarness, type Harness, runStatuses } from "./support/harness.ts";
import { until } from "./support/until.ts";

let h: Harness | undefined;
let proxy: Awaited<ReturnType<typeof tcpProxy>> | undefined;
afterEach(async () => {
  await h?.close();
  await proxy?.close();
  h = undefined;
  proxy = undefined;
});

/**
 * A worker process, and `lines(text)`: the lines of its stdout (pino JSON) that hold `text`.
 * Printed if the test fails.
 */
async function loggedWorker(harness: Harness, id: string, env: Record<string, string>) {
  const logs: string[] = [];
  const worker = await harness.spawnWorker(id, env);
  worker.stdout?.on("data", (chunk: Buffer) => logs.push(chunk.toString()));
  // A race here shows in the worker's log, not in the assertion: print it with the failure.
  onTestFailed(() =>
    console.error(`worker ${id}'s log:\n${logs.join("").split("\n").slice(-300).join("\n")}`),
  );
  const lines = (text: string) =>
    logs
      .join("")
      .split("\n")
      .filter((line) => line.includes(text));
  return { worker, lines };
}

function startChains(harness: Harness, n: number, delayMs: number) {
  return Promise.all(
    Array.from({ length: n }, () => harness.client.runs.start({ graphId: "slow-chain", input: { delayMs } })),
  );
}

async function exited(child: ChildProcess): Promise<number | null> {
  if (child.exitCode !== null) return child.exitCode;
  const [code] = await once(child, "exit");
  return code as number | null;
}

describe("Postgres behind a network that goes silent (a partition)", () => {
  it("holds the jobs in flight, whose statements time out, instead of spending their attempts", async () => {
    h = await createHarness("outage_silent");
    const harness = h;
    proxy = await tcpProxy(harness.databaseUrl);
    // A statement unanswered for 2 s fails: Postgres's own statement_timeout (90%) would have
    // answered first were it there.
    const { lines } = await loggedWorker(harness, "f1", {
      DATABASE_URL: proxy.url,
      DATABASE_QUERY_TIMEOUT_MS: "2000",
    });
    const chains = await startChains(harness, 8, 300);
    await until(async () => ((await runStatuses(harness)).running ?? 0) >= 4, 20_000, "runs running");

    proxy.freeze();
    await new Promise((resolve) => setTimeout(resolve, 12_000));
    const held = await harness.queue.getJobs(["waiting", "delayed", "failed", "active"]);
    // Connections open through the silence stay silent: the peer went with its NAT entry.
    proxy.restore({ keepFrozen: true });

    expect(held.map((job) => job.attemptsMade).filter((n) => n > 0)).toEqual([]);
    for (const s of chains)
      expect((await harness.client.runs.wait(s.runId, { timeoutMs: 60_000 })).status).toBe("success");
    expect(lines("job failed")).toEqual([]);
    expect(await harness.queue.getJobCountByTypes("failed")).toBe(0);
  }, 120_000);
});

describe("a job whose statement loses its connection while Postgres answers", () => {
  it("spends its attempts as any failing job does, rather than going back to wait for ever", async () => {
    h = await createHarness("outage_poison");
    const harness = h;
    const { lines } = await loggedWorker(harness, "p1", {});
    // The thread's first checkpoint kills the connection that writes it (57P01, as an operator's
    // pg_terminate_backend or a crashing backend would); every other statement is answered.
    await harness.pool.query(`
      CREATE FUNCTION "${harness.schema}".kill_own_connection() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN PERFORM pg_terminate_backend(pg_backend_pid()); RETURN NEW; END $$;
      CREATE TRIGGER kill_own_connection BEFORE INSERT ON "${harness.schema}".checkpoint_heads
        FOR EACH ROW WHEN (NEW.thread_id = 'poisoned') EXECUTE FUNCTION "${harness.schema}".kill_own_connection()`);
    const poisoned = await harness.client.runs.start({ graphId: "linear", input: {}, threadId: "poisoned" });
    const healthy = await harness.client.runs.start({ graphId: "linear", input: {} });
    expect((await harness.client.runs.wait(healthy.runId, { timeoutMs: 30_000 })).status).toBe("success");

    const attempts = async () => {
      const jobs = await harness.queue.getJobs(["waiting", "delayed", "active", "failed"]);
      const job = jobs.find((j) => j.data.runId === poisoned.runId);
      return job?.attemptsMade ?? 0;
    };
    await until(async () => (await attempts()) >= 2, 40_000, "the poisoned job spent no attempt");
    expect(lines("Postgres unreachable")).toEqual([]);
  }, 60_000);
});

describe("SIGTERM while Postgres is away", () => {
  it("puts back the jobs still running then, unspent, and the worker exits 0", async () => {
    h = await createHarness("outage_sigterm");
    const harness = h;
    proxy = await tcpProxy(harness.databaseUrl);
    const { worker, lines } = await loggedWorker(harness, "t1", { DATABASE_URL: proxy.url });
    // One superstep takes 3 s: its job is in flight when Postgres goes.
    const [slow] = await startChains(harness, 1, 3_000);
    await until(async () => ((await runStatuses(harness)).running ?? 0) === 1, 20_000, "run running");

    proxy.cut();
    // A job that fails at once pauses the worker; the slow one is still in its node.
    await startChains(harness, 1, 0);
    await until(() => lines("Postgres unreachable").length === 1, 20_000, "worker paused");
    worker.kill("SIGTERM");
    expect(await exited(worker)).toBe(0);

    // Both jobs wait, as they were: the slow one too, though it failed after the SIGTERM.
    const waiting = await harness.queue.getJobs(["waiting"]);
    expect(waiting.map((job) => job.attemptsMade)).toEqual([0, 0]);
    expect(waiting.some((job) => job.data.runId === slow?.runId)).toBe(true);
    expect(lines("job failed")).toEqual([]);

    proxy.restore();
    await harness.startWorker({ id: "t2" });
    await until(async () => ((await runStatuses(harness)).success ?? 0) === 2, 30_000, "runs settled");
  }, 90_000);
});
