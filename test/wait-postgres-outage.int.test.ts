// runs.wait while its Postgres is away (a restart, a failover): the wait reads again until its
// timeout, so a blip shorter than the timeout is ridden out; past the timeout it says Postgres
// was unreachable, not that the run took too long. The worker's Postgres stays up; the
// waiting client's goes through a TCP proxy the test cuts.
import { createClient, type LayoverClient, PostgresUnavailableError } from "@layover/runtime";
import { tcpProxy } from "@layover/testing";
import pino from "pino";
import { afterAll, beforeAll, expect, it } from "vitest";
import { createHarness, type Harness } from "./support/harness.ts";

let h: Harness;
let proxy: Awaited<ReturnType<typeof tcpProxy>>;
let waiter: LayoverClient;
let stopWorker: () => Promise<void>;

beforeAll(async () => {
  h = await createHarness("wait_postgres_outage");
  stopWorker = await h.startWorker();
  proxy = await tcpProxy(h.databaseUrl);
  waiter = createClient({ ...h.deployment, databaseUrl: proxy.url, logger: pino({ level: "silent" }) });
}, 60_000);
afterAll(async () => {
  await waiter?.close();
  await stopWorker?.();
  await h?.close();
  await proxy?.close();
});

it("a wait under way when its Postgres goes away answers once it is back", async () => {
  // Five nodes of 200 ms: it finishes about a second on, while the waiter's Postgres is away.
  const { runId } = await h.client.runs.start({ graphId: "slow-chain", input: { delayMs: 200 } });
  proxy.cut();
  const waited = waiter.runs.wait(runId, { timeoutMs: 15_000 });
  await new Promise((resolve) => setTimeout(resolve, 1_500));
  proxy.restore();
  expect(await waited).toMatchObject({ status: "success", values: { count: 5 } });
});

it("a wait whose Postgres stays away past its timeout says so, not that the run took too long", async () => {
  // Still running when the wait gives up (five nodes of a second).
  const { runId } = await h.client.runs.start({ graphId: "slow-chain", input: { delayMs: 1_000 } });
  proxy.cut();
  try {
    await expect(waiter.runs.wait(runId, { timeoutMs: 1_000 })).rejects.toMatchObject({
      code: "POSTGRES_UNAVAILABLE",
    });
  } finally {
    proxy.restore();
  }
});

it("every call of a client whose Postgres is away fails with PostgresUnavailableError naming it, the store's too", async () => {
  const { threadId } = await h.client.runs.start({ graphId: "slow-chain", input: { delayMs: 1 } });
  proxy.cut();
  try {
    const calls: Array<[string, () => Promise<unknown>]> = [
      ["runs.start", () => waiter.runs.start({ graphId: "slow-chain", input: { delayMs: 1 } })],
      ["threads.get", () => waiter.threads.get(threadId)],
      [
        "threads.history",
        async () => {
          for await (const _ of waiter.threads.history(threadId)) return;
        },
      ],
      ["interrupts.list", () => waiter.interrupts.list({ status: "pending" })],
      ["store.get", () => waiter.store.get(["memories"], "k")],
      ["store.put", () => waiter.store.put(["memories"], "k", { v: 1 })],
      ["store.search", () => waiter.store.search(["memories"])],
    ];
    for (const [call, made] of calls) {
      const error = await made().then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(error, call).toBeInstanceOf(PostgresUnavailableError);
      expect((error as Error).message, call).toContain(`${call}: Postgres is unreachable`);
    }
  } finally {
    proxy.restore();
  }
}, 60_000);

it("a silent network (a partition) fails the saver's and the store's calls with PostgresUnavailableError too", async () => {
  const silent = await tcpProxy(h.databaseUrl);
  const client = createClient({
    ...h.deployment,
    databaseUrl: silent.url,
    timeouts: { queryTimeoutMs: 500 },
    logger: pino({ level: "silent" }),
  });
  try {
    await client.crons.list(); // connections up before the network goes silent
    await client.store.get(["memories"], "k");
    silent.freeze();
    // The saver and the store count a statement unanswered for the query timeout a failure
    // retrying will not help (it may have run); to the caller Postgres was unreachable.
    const calls: Array<[string, () => Promise<unknown>]> = [
      ["crons.list", () => client.crons.list()],
      [
        "threads.history",
        async () => {
          for await (const _ of client.threads.history("silent-thread")) return;
        },
      ],
      ["store.get", () => client.store.get(["memories"], "k")],
    ];
    for (const [call, made] of calls) {
      const error = await made().then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(error, call).toBeInstanceOf(PostgresUnavailableError);
    }
  } finally {
    silent.restore();
    await client.close();
    await silent.close();
  }
}, 60_000);
