// Runs of a graph no live worker serves wait in the queue; operators are told, not left guessing:
// graphs.list, the scheduler's warning and gauge, and `layover-admin graphs` say which graph and
// how many runs. In-process worker and scheduler on real Postgres, Redis and BullMQ; the CLI as a
// real process.
import { createScheduler } from "@layover/scheduler";
import { createWorker } from "@layover/worker";
import pino from "pino";
import { afterAll, beforeAll, expect, it } from "vitest";
import { graphs } from "./fixtures/graphs.ts";
import { createHarness, type Harness, runAdmin } from "./support/harness.ts";

let h: Harness;
beforeAll(async () => {
  h = await createHarness("unserved_graphs");
}, 60_000);
afterAll(async () => {
  await h?.close();
});

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** A worker that says every `registerEveryMs` which graphs it serves: its registrations lapse three of them after it stops. */
async function startWorker(id: string, registerEveryMs = 100) {
  const worker = createWorker({
    graphs,
    databaseUrl: h.databaseUrl,
    redisUrl: h.redisUrl,
    schema: h.schema,
    prefix: h.prefix,
    workerId: id,
    registerEveryMs,
    logger: pino({ level: "silent" }),
  });
  await worker.start();
  return worker;
}

async function linearInfo() {
  const info = (await h.client.graphs.list()).find((g) => g.graphId === "linear");
  if (info === undefined) throw new Error("graphs.list lacks the linear graph");
  return info;
}

const admin = (...args: string[]) => runAdmin(h, args);

/** A scheduler reporting to `lines`, with its metrics served; returns it and its /metrics text. */
async function startScheduler(lines: string[]) {
  const scheduler = createScheduler({
    databaseUrl: h.databaseUrl,
    redisUrl: h.redisUrl,
    schema: h.schema,
    prefix: h.prefix,
    reconcileEveryMs: 60_000,
    metricsPort: 0,
    logger: pino({ level: "info" }, { write: (line: string) => lines.push(line) }),
  });
  await scheduler.start();
  const started = JSON.parse(lines.find((line) => line.includes('"scheduler started"')) as string);
  const metrics = async () => (await fetch(`http://127.0.0.1:${started.metricsPort}/metrics`)).text();
  return { scheduler, metrics };
}

it("says which graph's runs no live worker serves, and stops saying it once a worker serves them", async () => {
  const first = await startWorker("first");
  expect(await linearInfo()).toMatchObject({ served: true, runsWaiting: 0, oldestWaitingAt: null });
  expect((await linearInfo()).versions).toMatchObject([{ live: true, current: true }]);
  await first.close();
  await sleep(400); // three missed heartbeats
  const runs = await Promise.all([1, 2, 3].map(() => h.client.runs.start({ graphId: "linear", input: {} })));

  const unserved = await linearInfo();
  expect(unserved).toMatchObject({
    served: false,
    runsWaiting: 3,
    versions: [{ live: false, current: true }],
  });
  expect(unserved.oldestWaitingAt).toBeInstanceOf(Date);
  expect(unserved.lastServedAt?.getTime()).toBeLessThan(Date.now() - 300);

  const lines: string[] = [];
  const { scheduler, metrics } = await startScheduler(lines);
  try {
    // Its reconciliation at start-up warns, naming the graph and its waiting runs.
    const warning = lines
      .map((line) => JSON.parse(line))
      .find((log) => log.msg.startsWith("runs wait for a graph"));
    expect(warning).toMatchObject({ level: 40, graphId: "linear", runsWaiting: 3 });
    expect(await metrics()).toContain('layover_runs_unserved{graph_id="linear",service="scheduler"} 3');
    const listed = (await admin("graphs")).stdout;
    expect(listed.split("\n").find((line) => line.startsWith("linear "))).toMatch(
      /^linear\s+NO\s+\S+\s+1 \(0 live\)\s+3\s/,
    );
    expect(listed).toContain("wait until a worker whose graph module has it starts");

    // Heartbeats a loaded machine cannot miss for long enough to lapse mid-test.
    const second = await startWorker("second", 2_000);
    try {
      for (const { runId } of runs) expect((await h.client.runs.wait(runId)).status).toBe("success");
      expect(await linearInfo()).toMatchObject({ served: true, runsWaiting: 0, oldestWaitingAt: null });
      expect(await metrics()).not.toContain("layover_runs_unserved{");
      expect((await admin("graphs")).stdout).toMatch(/^linear\s+yes\s/m);
    } finally {
      await second.close();
    }
  } finally {
    await scheduler.close();
  }
});
