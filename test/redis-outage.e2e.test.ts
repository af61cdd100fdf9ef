// Redis goes away for a few seconds under load and comes back with its data (a network blip, a
// restart with persistence): two worker processes, a scheduler process and this test's client
// all reach Redis through TCP proxies the test cuts (connections closed, new ones refused) or
// silences (bytes lost, the open connections dead for good without an RST: a blackholed peer).
// Postgres is the truth: every run finishes with its right state, each superstep commits once,
// no run fails because Redis blinked, the services run on without a restart, and waits, starts
// and resumes made across the outage all answer. A restart that loses Redis's data is
// scheduler.int.test.ts's FLUSHALL case.
import { isTimeoutRejection } from "@layover/graph";
import { createClient, type LayoverClient, type RunResult } from "@layover/runtime";
import { tcpProxy } from "@layover/testing";
import pino from "pino";
import { afterAll, beforeAll, expect, it } from "vitest";
import { checkpointForks, createHarness, type Harness } from "./support/harness.ts";
import { type Service, spawnProxiedScheduler, spawnProxiedWorker } from "./support/proxied-services.ts";

const OUTAGE_MS = 4_000;
const PARKED = 40;
const RESUMED_BEFORE = 20;
const CHAINS = 80;
const TIMED = 30;
const DURING = 10;
/**
 * Every wait's timeout, far beyond the test's: a wait reads Postgres once more at its timeout, so
 * one that missed its run's event and hangs would answer then; here it fails the test instead.
 */
const WAIT_MS = 600_000;
/** How long the services may take to settle every run once Redis is back. */
const SETTLE_MS = 60_000;

let h: Harness;
/** The services' way to Redis, and the client's: the client's comes back last. */
let proxy: Awaited<ReturnType<typeof tcpProxy>>;
let clientProxy: Awaited<ReturnType<typeof tcpProxy>>;
let client: LayoverClient;
let services: Service[];

beforeAll(async () => {
  h = await createHarness("redis-outage");
  proxy = await tcpProxy(h.redisUrl);
  clientProxy = await tcpProxy(h.redisUrl);
  const deployment = { ...h.deployment, redisUrl: proxy.url };
  services = await Promise.all([
    spawnProxiedWorker(deployment, "w1"),
    spawnProxiedWorker(deployment, "w2"),
    spawnProxiedScheduler(deployment, "s1"),
  ]);
  client = createClient({ ...deployment, redisUrl: clientProxy.url, logger: pino({ level: "silent" }) });
}, 60_000);
afterAll(async () => {
  await Promise.all((services ?? []).map((s) => s.stop()));
  await client?.close();
  await proxy?.close();
  await clientProxy?.close();
  await h?.close();
});

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const answer = (i: number) => (i % 3 === 0 ? "no" : "yes");

/** A wait, and when it answered. */
async function timedWait(runId: string): Promise<{ result: RunResult; at: number }> {
  const result = await client.runs.wait(runId, { timeoutMs: WAIT_MS });
  return { result, at: Date.now() };
}

/** The thread's second run (the resume the sweep made), waited for. */
async function sweptRun(threadId: string): Promise<RunResult> {
  for (let i = 0; i < 600; i++) {
    const last = (await client.threads.runs(threadId))[1];
    if (last) return client.runs.wait(last.runId, { timeoutMs: WAIT_MS });
    await sleep(50);
  }
  throw new Error(`thread ${threadId} was never resumed by the sweep`);
}

/** Runs of `graphId` started and parked at their first question. */
async function startParked(graphId: string, inputs: Array<Record<string, unknown>>) {
  const started = await Promise.all(inputs.map((input) => client.runs.start({ graphId, input })));
  const parked = await Promise.all(started.map((s) => client.runs.wait(s.runId, { timeoutMs: WAIT_MS })));
  expect(parked.every((r) => r.status === "interrupted")).toBe(true);
  return { started, parked };
}

/** Each parked approval answered until it ends; its state says what it was told. */
async function answerTheRest(approvals: Array<{ threadId: string }>) {
  for (let round = 0; round < 2; round++) {
    const asked = await Promise.all(approvals.map((a) => client.threads.get(a.threadId)));
    const resumed = await Promise.all(
      approvals.flatMap((a, i) =>
        asked[i]?.status === "interrupted" ? [client.threads.resume(a.threadId, answer(i))] : [],
      ),
    );
    await Promise.all(resumed.map((r) => client.runs.wait(r.runId, { timeoutMs: WAIT_MS })));
  }
  for (const [i, a] of approvals.entries()) {
    const state = await client.threads.get(a.threadId);
    const answers = i % 2 === 1 ? [answer(i), answer(i)] : [answer(i)];
    const outcome = answers.every((x) => x === "yes") ? `approved p${i}` : `rejected p${i}`;
    expect(state.values).toMatchObject({ answers, outcome, acted: true });
    expect(state.status).toBe("idle");
  }
}

/**
 * The load, with Redis out for OUTAGE_MS in its middle: chains of five jobs' supersteps, resumes,
 * parked questions whose timeouts fall due during the outage, and starts and resumes made while
 * Redis is out, every run waited for from before the outage (or from its call) to its end.
 */
/** Once no run is pending or running and no timed question waits (throws after SETTLE_MS). */
async function allSettled(timedIds: string[]): Promise<void> {
  const deadline = Date.now() + SETTLE_MS;
  for (;;) {
    const { rows } = await h.pool.query(
      `SELECT (SELECT count(*) FROM "${h.schema}".runs WHERE status IN ('pending', 'running'))::int
            + (SELECT count(*) FROM "${h.schema}".interrupts
                WHERE thread_id = ANY($1) AND status = 'pending')::int AS n`,
      [timedIds],
    );
    if (rows[0].n === 0) return;
    if (Date.now() > deadline) throw new Error(`${rows[0].n} runs or questions still unsettled`);
    await sleep(100);
  }
}

/**
 * The timed questions (parked with an hour's timeout) fall due a second from now: during the
 * outage, however long the load took to start.
 */
async function dueInASecond(threadIds: string[]): Promise<void> {
  await h.pool.query(
    `UPDATE "${h.schema}".interrupts SET deadline = now() + interval '1 second'
      WHERE thread_id = ANY($1) AND status = 'pending'`,
    [threadIds],
  );
}

/** Parked approvals and timed questions, then chains and resumes under way, each waited for. */
async function startLoad() {
  const approvals = await startParked(
    "approval",
    Array.from({ length: PARKED }, (_, i) => ({ item: `p${i}`, twice: i % 2 === 1, delayMs: 200 })),
  );
  const timed = await startParked(
    "timed",
    Array.from({ length: TIMED }, () => ({ timeoutMs: 3_600_000 })),
  );
  const threads = approvals.started;
  const chains = await Promise.all(
    Array.from({ length: CHAINS }, () =>
      client.runs.start({ graphId: "slow-chain", input: { delayMs: 50 } }),
    ),
  );
  const resumes = await Promise.all(
    threads.slice(0, RESUMED_BEFORE).map((t, i) => client.threads.resume(t.threadId, answer(i))),
  );
  return { threads, timed, waits: [...chains, ...resumes].map((r) => timedWait(r.runId)) };
}

/**
 * Starts and resumes made while Redis is out: recorded in Postgres, their jobs dispatched once it
 * is back. Each returns how long it took and its run's wait, under way from then on.
 */
function callsDuringOutage(threads: Array<{ threadId: string }>) {
  const calls = [
    ...Array.from(
      { length: DURING },
      () => () => client.runs.start({ graphId: "slow-chain", input: { delayMs: 0 } }),
    ),
    ...threads
      .slice(RESUMED_BEFORE, RESUMED_BEFORE + DURING)
      .map((t, j) => () => client.threads.resume(t.threadId, answer(RESUMED_BEFORE + j))),
  ];
  return Promise.all(
    calls.map(async (call) => {
      const began = Date.now();
      const { runId } = await call();
      return { ms: Date.now() - began, wait: timedWait(runId) };
    }),
  );
}

/**
 * Cuts or silences Redis for everyone; brings it back for the services after OUTAGE_MS, and for
 * the client once Postgres says every run settled: each event the client's waits wait for was
 * published while it was away (its network came back last), so they answer from Postgres.
 */
async function loadThroughOutage(outage: { begin(): void; end(): void; endForClient(): void }, tag: string) {
  const { threads, timed, waits } = await startLoad();
  await sleep(400);
  outage.begin();
  const cutAt = Date.now();
  await dueInASecond(timed.started.map((t) => t.threadId));
  const during = await callsDuringOutage(threads);
  await sleep(Math.max(0, cutAt + OUTAGE_MS - Date.now()));
  outage.end();
  const restoredAt = Date.now();
  await allSettled(timed.started.map((t) => t.threadId));
  const settledAt = Date.now();
  outage.endForClient();
  const answered = await Promise.all([...waits, ...during.map((d) => d.wait)]);
  const swept = await Promise.all(timed.started.map((t) => sweptRun(t.threadId)));
  const figures = {
    outage: tag,
    outageMs: restoredAt - cutAt,
    longestCallDuringOutageMs: Math.max(...during.map((d) => d.ms)),
    settledAfterRestoreMs: settledAt - restoredAt,
    waitsDoneAfterRestoreMs: Math.max(...answered.map((a) => a.at)) - restoredAt,
    waitsDoneBeforeClientsRedisBack: answered.filter((a) => a.at <= settledAt).length,
    waitsUnderWay: answered.length,
  };
  console.log(JSON.stringify(figures));
  const chains = answered.slice(0, CHAINS);
  return { approvals: threads, timed: timed.started, chains, during, swept, figures };
}

async function expectAllWell(load: Awaited<ReturnType<typeof loadThroughOutage>>) {
  for (const { result } of load.chains)
    expect(result).toMatchObject({
      status: "success",
      values: { count: 5, trail: ["s0", "s1", "s2", "s3", "s4"] },
    });
  // Calls made while Redis was out returned, recorded: within REDIS_WAIT_MS (2 s) and a little.
  for (const d of load.during) expect(d.ms).toBeLessThan(10_000);
  for (const result of load.swept) {
    expect(result.status).toBe("success");
    expect(isTimeoutRejection(result.values.decision)).toBe(true);
  }
  await answerTheRest(load.approvals);

  // Each timeout expired once, by the sweep; each timed thread has its start and one resume.
  const timedIds = load.timed.map((t) => t.threadId);
  const { rows: expiries } = await h.pool.query(
    `SELECT count(*)::int AS n, min(status) AS status, max(status) AS last, min(resolved_by) AS by
       FROM "${h.schema}".interrupts WHERE thread_id = ANY($1)`,
    [timedIds],
  );
  expect(expiries[0]).toEqual({ n: TIMED, status: "expired", last: "expired", by: "timeout" });
  const { rows: timedRuns } = await h.pool.query(
    `SELECT count(*)::int AS n FROM "${h.schema}".runs WHERE thread_id = ANY($1)`,
    [timedIds],
  );
  expect(timedRuns[0].n).toBe(TIMED * 2);

  // No run failed or is left behind, no superstep committed twice, the services run on.
  const { rows: unsettled } = await h.pool.query(
    `SELECT status, count(*)::int AS n FROM "${h.schema}".runs
      WHERE status NOT IN ('success', 'interrupted') GROUP BY status`,
  );
  expect(unsettled).toEqual([]);
  expect(await checkpointForks(h)).toEqual([]);
  expect(services.map((s) => s.alive())).toEqual([true, true, true]);
  const after = await client.runs.start({ graphId: "linear", input: {} });
  expect((await client.runs.wait(after.runId, { timeoutMs: WAIT_MS })).status).toBe("success");
}

it("Redis cut for a few seconds under load: every run finishes once, and every call answers", async () => {
  const outage = {
    begin: () => {
      proxy.cut();
      clientProxy.cut();
    },
    end: () => proxy.restore(),
    endForClient: () => clientProxy.restore(),
  };
  await expectAllWell(await loadThroughOutage(outage, "cut"));
}, 120_000);

/**
 * A cancel reaches a running node through the worker's cancel subscription: its signal aborts
 * its 30 s call and the thread is free again within seconds, not when the call would have ended.
 */
async function expectCancelReachesNode() {
  const { runId, threadId } = await client.runs.start({ graphId: "abortable", input: { delayMs: 30_000 } });
  while ((await client.runs.get(runId)).status !== "running") await sleep(50);
  await sleep(200); // the node is in its call
  expect(await client.runs.cancel(runId)).toEqual({ status: "cancelled" });
  const deadline = Date.now() + 10_000;
  while ((await client.threads.get(threadId)).status !== "idle") {
    if (Date.now() > deadline)
      throw new Error("the cancelled run's node still runs: its signal never aborted");
    await sleep(50);
  }
}

it("Redis silent for a few seconds, its connections then dead without an RST: every process reconnects", async () => {
  // A blackholed peer: what was sent is lost, the open connections never answer again, and TCP
  // alone would notice after about 15 minutes. New connections reach Redis once it is back.
  const outage = {
    begin: () => {
      proxy.freeze();
      clientProxy.freeze();
    },
    end: () => proxy.restore({ keepFrozen: true }),
    endForClient: () => clientProxy.restore({ keepFrozen: true }),
  };
  await expectAllWell(await loadThroughOutage(outage, "silent"));
  // The subscriptions made before the silence, on which nothing is sent, were dead too.
  await expectCancelReachesNode();
}, 120_000);
