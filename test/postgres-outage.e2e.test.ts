// Postgres goes away under load and comes back (a managed database's failover or restart): two
// worker processes, a scheduler and a producer reach it through a TCP proxy that the test cuts
// (every connection closed, new ones refused) for a few seconds in the middle of 160 runs. Every
// run finishes with the right state, none fails for the outage, no superstep commits twice, the
// workers stay up (not ready while Postgres is gone, ready after), and a producer's calls
// during the outage fail with a typed error and change nothing.
import type { ChildProcess } from "node:child_process";
import { createClient, type LayoverClient } from "@layover/runtime";
import { createScheduler } from "@layover/scheduler";
import { tcpProxy } from "@layover/testing";
import pino from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  checkpointCounts,
  checkpointForks,
  countRows,
  createHarness,
  type Harness,
  runStatuses,
} from "./support/harness.ts";
import { until } from "./support/until.ts";

const APPROVALS = 80;
const CHAINS = 80;
const OUTAGE_MS = 4_000;
/** How long before the cut commits reach Postgres but their answers do not come back. */
const DEAF_MS = 300;
const quiet = pino({ level: "silent" });

let h: Harness;
let proxy: Awaited<ReturnType<typeof tcpProxy>>;
let workers: Array<ChildProcess & { metricsPort?: number }>;
let producer: LayoverClient;
let stopScheduler: (() => Promise<void>) | undefined;
let schedulerPort: number;
const logs: string[] = [];

beforeAll(async () => {
  h = await createHarness("postgres_outage");
  proxy = await tcpProxy(h.databaseUrl);
  const env = { DATABASE_URL: proxy.url, METRICS_PORT: "0" };
  workers = await Promise.all(["o1", "o2"].map((id) => h.spawnWorker(id, env)));
  for (const worker of workers) worker.stdout?.on("data", (chunk: Buffer) => logs.push(chunk.toString()));
  // The scheduler's own schedule (reconciliation every 15 s): what carries runs on after the
  // outage is what a production fleet has, so the recovery measured is a production figure.
  const lines: string[] = [];
  const logger = pino({ level: "info" }, { write: (line: string) => void lines.push(line) });
  const scheduler = createScheduler({ ...h.deployment, databaseUrl: proxy.url, metricsPort: 0, logger });
  await scheduler.start();
  const started = JSON.parse(lines.find((line) => line.includes('"scheduler started"')) as string);
  schedulerPort = started.metricsPort as number;
  stopScheduler = () => scheduler.close();
  producer = createClient({ ...h.deployment, databaseUrl: proxy.url, logger: quiet });
}, 60_000);
afterAll(async () => {
  if (process.env.OUTAGE_LOG) (await import("node:fs")).writeFileSync(process.env.OUTAGE_LOG, logs.join(""));
  await producer?.close();
  await stopScheduler?.();
  await h?.close();
  await proxy?.close();
});

async function ready(port: number | undefined): Promise<number> {
  const response = await fetch(`http://127.0.0.1:${port}/readyz`);
  await response.body?.cancel();
  return response.status;
}

/** What a producer's call through the cut proxy does: its error (or its result), and how long it took. */
async function during<T>(call: () => Promise<T>): Promise<{ error: unknown; ms: number }> {
  const started = Date.now();
  try {
    await call();
    return { error: undefined, ms: Date.now() - started };
  } catch (error) {
    return { error, ms: Date.now() - started };
  }
}

/** The outage: cut, what producers and probes see meanwhile, restore. */
async function outage(parkedThread: string) {
  // First the answers go missing: statements sent now run and commit, and their callers never
  // hear it; then the crash.
  proxy.deafen();
  await new Promise((resolve) => setTimeout(resolve, DEAF_MS));
  const before = { runs: await countRows(h, "runs"), resolved: await resolvedCount() };
  proxy.cut();
  const cutAt = Date.now();
  const atCut = await runStatuses(h);
  const started = await during(() => producer.runs.start({ graphId: "linear", input: {} }));
  const resumed = await during(() => producer.threads.resume(parkedThread, "yes"));
  const ports = [...workers.map((w) => w.metricsPort), schedulerPort];
  const probes = await Promise.all(
    ports.map((port) => until(async () => (await ready(port)) === 503, 3_000).then(() => 503)),
  );
  await new Promise((resolve) => setTimeout(resolve, Math.max(0, OUTAGE_MS - (Date.now() - cutAt))));
  proxy.restore();
  const after = { runs: await countRows(h, "runs"), resolved: await resolvedCount() };
  const atRestore = await runStatuses(h);
  return { started, resumed, probes, before, after, atCut, atRestore, restoredAt: Date.now() };
}

async function resolvedCount(): Promise<number> {
  const { rows } = await h.pool.query(
    `SELECT count(*)::int AS n FROM "${h.schema}".interrupts WHERE status <> 'pending'`,
  );
  return rows[0].n;
}

describe("Postgres goes away under load and comes back", () => {
  it("finishes every run, commits each superstep once, keeps the workers, and refuses producers cleanly meanwhile", async () => {
    const testStarted = Date.now();
    const approvals = await Promise.all(
      Array.from({ length: APPROVALS }, (_, i) =>
        h.client.runs.start({
          graphId: "approval",
          input: { item: `a${i}`, twice: i % 2 === 1, delayMs: 150 },
        }),
      ),
    );
    const parked = await Promise.all(
      approvals.map((s) => h.client.runs.wait(s.runId, { timeoutMs: 60_000 })),
    );
    expect(parked.every((r) => r.status === "interrupted")).toBe(true);

    // The load: every approval answered (its act node takes 150 ms), and slow chains of five 150 ms
    // nodes (each run two or three jobs): some 10 s of work for the two workers' 16 slots.
    const answered = approvals.slice(1);
    const resumes = await Promise.all(answered.map((s) => h.client.threads.resume(s.threadId, "yes")));
    const chains = await Promise.all(
      Array.from({ length: CHAINS }, () =>
        h.client.runs.start({ graphId: "slow-chain", input: { delayMs: 150 } }),
      ),
    );
    // Mid-load: both workers hold running jobs.
    await until(async () => ((await runStatuses(h)).running ?? 0) >= 8, 20_000);
    const cut = await outage((approvals[0] as { threadId: string }).threadId);

    // Every run settles, none failed for the outage.
    const settledAtRestore = cut.atRestore.success ?? 0;
    await until(async () => ((await runStatuses(h)).success ?? 0) > settledAtRestore, 120_000);
    const firstMs = Date.now() - cut.restoredAt;
    await until(async () => {
      const by = await runStatuses(h);
      return (by.pending ?? 0) === 0 && (by.running ?? 0) === 0;
    }, 120_000);
    const recoveryMs = Date.now() - cut.restoredAt;
    console.log(`after restore: first run settled in ${firstMs} ms, all in ${recoveryMs} ms`, {
      atCut: cut.atCut,
      atRestore: cut.atRestore,
    });
    console.log(
      `producer during outage: start ${String(cut.started.error)} in ${cut.started.ms} ms; resume ${String(cut.resumed.error)} in ${cut.resumed.ms} ms`,
    );
    expect(await runStatuses(h)).not.toHaveProperty("error");

    const afterResume = await Promise.all(
      resumes.map((r) => h.client.runs.wait(r.runId, { timeoutMs: 60_000 })),
    );
    const twice = afterResume.filter((r) => r.status === "interrupted").map((r) => r.threadId);
    const second = await Promise.all(twice.map((t) => h.client.threads.resume(t, "yes")));
    for (const r of second)
      expect((await h.client.runs.wait(r.runId, { timeoutMs: 60_000 })).status).toBe("success");
    for (const [i, s] of approvals.entries()) {
      if (i === 0) continue;
      const state = await h.client.threads.get(s.threadId);
      expect(state.values).toMatchObject({ item: `a${i}`, outcome: `approved a${i}`, acted: true });
    }
    const chainResults = await Promise.all(
      chains.map((s) => h.client.runs.wait(s.runId, { timeoutMs: 60_000 })),
    );
    for (const result of chainResults)
      expect(result).toMatchObject({
        status: "success",
        values: { count: 5, trail: ["s0", "s1", "s2", "s3", "s4"] },
      });
    // The default durability stores the input and every node's superstep, once.
    const counts = await checkpointCounts(
      h,
      chains.map((s) => s.threadId),
    );
    expect([...new Set(counts.values())]).toEqual([6]);
    expect(await checkpointForks(h)).toEqual([]);

    // The producer's calls during the outage failed at once, typed, and wrote nothing.
    for (const call of [cut.started, cut.resumed]) {
      expect(call.error).toMatchObject({ code: "POSTGRES_UNAVAILABLE" });
      expect(call.ms).toBeLessThan(15_000);
    }
    expect(cut.after).toEqual(cut.before);
    // The untouched approval still waits, and the producer works again.
    const first = approvals[0] as { threadId: string; runId: string };
    expect((await h.client.threads.get(first.threadId)).status).toBe("interrupted");
    const late = await producer.threads.resume(first.threadId, "yes");
    expect(await producer.runs.wait(late.runId, { timeoutMs: 30_000 })).toMatchObject({
      status: "success",
      values: { outcome: "approved a0", acted: true },
    });

    // The workers never stopped: not ready while Postgres was gone, ready again after.
    expect(cut.probes).toEqual([503, 503, 503]);
    for (const worker of workers) expect(worker.exitCode).toBeNull();
    for (const port of [...workers.map((w) => w.metricsPort), schedulerPort])
      await until(async () => (await ready(port)) === 200, 15_000);
    console.log(`test body: ${Date.now() - testStarted} ms`);
  }, 240_000);
});
