// LangGraph's node cache on workers: the deployment's Postgres cache, which every worker shares,
// gives a node's (or a task's) writes back to a run on another thread and another worker; the
// scheduler deletes expired entries.
import { randomUUID } from "node:crypto";
import { existsSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PostgresCache } from "@layover/checkpoint-postgres";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createHarness, type Harness, runAdmin } from "./support/harness.ts";
import { until } from "./support/until.ts";

let h: Harness;

beforeAll(async () => {
  h = await createHarness("node_cache");
}, 60_000);
afterAll(async () => {
  await h?.close();
});

const counted = (file: string) =>
  existsSync(file) ? readFileSync(file, "utf8").split("\n").filter(Boolean) : [];
const countFile = () => join(tmpdir(), `layover-cache-${randomUUID()}`);

async function finished(graphId: string, input: unknown) {
  const { runId } = await h.client.runs.start({ graphId, input });
  const done = await h.client.runs.wait(runId, { timeoutMs: 20_000 });
  expect(done.status).toBe("success");
  return done.values;
}

describe("the node cache on workers", () => {
  it("a node's writes kept by one worker are given back to another worker's run on another thread", async () => {
    const file = countFile();
    const stopFirst = await h.startWorker({ id: "cache-a" });
    const first = await finished("cached-lookup", { file, city: "AMS" });
    await stopFirst();
    const stopSecond = await h.startWorker({ id: "cache-b" });
    try {
      expect(await finished("cached-lookup", { file, city: "AMS" })).toEqual(first);
      expect(first).toMatchObject({ forecast: "sunny in AMS" });
      expect(counted(file)).toEqual(["forecast"]);
      await finished("cached-lookup", { file, city: "JFK" }); // another input: runs
      expect(counted(file)).toEqual(["forecast", "forecast"]);

      // A functional task's result, kept under its arguments.
      const quotes = countFile();
      for (let i = 0; i < 2; i++)
        expect(await finished("cached-quote", { file: quotes, route: "AMS-JFK" })).toEqual({
          route: "AMS-JFK",
          price: 420,
        });
      expect(counted(quotes)).toEqual(["quote"]);
    } finally {
      await stopSecond();
    }
  });

  it("a subgraph compiled with a cache of its own shares its entries across workers, apart from the parent's nodes, and clearCache clears them", async () => {
    const file = countFile();
    const stopFirst = await h.startWorker({ id: "sub-cache-a" });
    const first = await finished("cached-subgraph", { file, city: "OSL" });
    await stopFirst();
    // The parent's node and the subgraph's, of one name and one input, each ran and kept its own.
    expect(first).toMatchObject({ forecast: "inner: cloudy in OSL" });
    expect(counted(file)).toEqual(["outer forecast", "inner forecast"]);
    const stopSecond = await h.startWorker({ id: "sub-cache-b" });
    try {
      // Another worker: the subgraph's InMemoryCache was the first worker's alone; its entries are the deployment's.
      expect(await finished("cached-subgraph", { file, city: "OSL" })).toEqual(first);
      expect(counted(file)).toEqual(["outer forecast", "inner forecast"]);
      await h.client.graphs.clearCache("cached-subgraph");
      await finished("cached-subgraph", { file, city: "OSL" });
      expect(counted(file)).toEqual(["outer forecast", "inner forecast", "outer forecast", "inner forecast"]);
    } finally {
      await stopSecond();
    }
  });

  it("gives two unnamed subgraphs called from one node none of each other's writes: they keep none on workers", async () => {
    const stop = await h.startWorker({ id: "variants" });
    try {
      expect(await finished("cached-variants", { variant: "strict", text: "essay" })).toMatchObject({
        verdict: "strict: rejected: essay",
      });
      expect(await finished("cached-variants", { variant: "lenient", text: "essay" })).toMatchObject({
        verdict: "lenient: accepted: essay",
      });
    } finally {
      await stop();
    }
  });

  it("an operator clears one graph's entries (layover-admin clear-cache); another graph's stay", async () => {
    const stop = await h.startWorker({ id: "cache-c" });
    try {
      const file = countFile();
      const quotes = countFile();
      await finished("cached-lookup", { file, city: "LHR" });
      await finished("cached-quote", { file: quotes, route: "LHR-SFO" });
      const cleared = await runAdmin(h, ["clear-cache", "cached-lookup"]);
      expect(cleared.stdout).toContain("cleared the node cache of graph cached-lookup");
      await finished("cached-lookup", { file, city: "LHR" });
      await finished("cached-quote", { file: quotes, route: "LHR-SFO" });
      expect([counted(file), counted(quotes)]).toEqual([["forecast", "forecast"], ["quote"]]);
      await expect(h.client.graphs.clearCache("")).rejects.toMatchObject({ code: "INVALID_INPUT" });
      // A typo of a graph id cleared nothing and said nothing.
      await expect(h.client.graphs.clearCache("cached-lookp")).rejects.toMatchObject({
        code: "UNKNOWN_GRAPH",
        message: expect.stringContaining("cached-lookup"),
      });
    } finally {
      await stop();
    }
  });

  it("the scheduler deletes expired entries", async () => {
    const cache = new PostgresCache({ pool: h.pool, schema: h.schema });
    await cache.setup();
    await cache.set([
      { key: [["expiring"], "k"], value: 1, ttl: 0.1 },
      { key: [["kept"], "k"], value: 2 },
    ]);
    const rows = async () =>
      (
        await h.pool.query(
          `SELECT ns FROM "${h.schema}".cache_entries WHERE ns IN ('["expiring"]', '["kept"]')`,
        )
      ).rows;
    expect(await rows()).toHaveLength(2);
    await h.startScheduler({ pruneCacheEveryMs: 300 });
    await until(async () => (await rows()).length === 1, 10_000, "expired entry pruned");
    expect(await rows()).toEqual([{ ns: '["kept"]' }]);
  });
});
