// PostgresCache: the cache contract against real Postgres, and what it adds that a user would
// notice — one statement per call however many keys, expired entries pruned in bounded batches,
// schemas that do not see each other, text Postgres cannot hold refused before anything is sent,
// typed failures, and plans that probe the primary key.
import { randomUUID } from "node:crypto";
import { setTimeout as sleep } from "node:timers/promises";
import type { CacheEntry, CacheFullKey } from "@layover/checkpoint";
import { runCacheConformance } from "@layover/checkpoint/conformance";
import { useTestSchema } from "@layover/testing/vitest";
import type pg from "pg";
import { beforeAll, describe, expect, it } from "vitest";
import { isPostgresSaverError } from "./errors.ts";
import { migrate } from "./migrate.ts";
import { PostgresCache } from "./postgres-cache.ts";
import { statementName } from "./schema-name.ts";
import { cacheGetSql, cachePruneSql } from "./sql/cache.ts";
import { useCountedSaver } from "./test-support/counted-saver.ts";
import { countingPool } from "./test-support/pools.ts";

const t = useCountedSaver("postgres_cache");
const other = useTestSchema("postgres_cache_other");
const cacheOn = (pool: pg.Pool = t.counted.pool, schema = t.schema.name) =>
  new PostgresCache({ pool, schema });
/** A root label of the test's own. */
const newRoot = () => `pg-cache-${randomUUID()}`;

beforeAll(async () => {
  await migrate(t.admin, { schema: other.current.name });
});

runCacheConformance("PostgresCache", async () => ({ cache: cacheOn() }));

async function refusal(call: Promise<unknown>): Promise<unknown> {
  return call.then(
    () => expect.unreachable("the call should have failed"),
    (error: unknown) => error,
  );
}

const entriesUnder = (root: string, count: number): CacheEntry[] =>
  Array.from({ length: count }, (_, i) => ({
    key: [[root, `node${i % 7}`], `k${i}`],
    value: { i },
    ttl: 60,
  }));

describe("round trips", () => {
  it("sets 200 entries in one statement and gets 200 keys in one statement", async () => {
    const cache = cacheOn();
    const root = newRoot();
    const entries = entriesUnder(root, 200);
    const set = await t.statementsOf(() => cache.set(entries));
    expect(set).toEqual([statementName("cache_set", t.schema.name)]);
    let hits: Array<{ key: CacheFullKey; value: unknown }> = [];
    const get = await t.statementsOf(async () => {
      hits = await cache.get(entries.map((entry) => entry.key));
    });
    expect(get).toEqual([statementName("cache_get", t.schema.name)]);
    expect(hits).toHaveLength(200);
    expect(new Set(hits.map((hit) => (hit.value as { i: number }).i)).size).toBe(200);
    expect(await t.statementsOf(() => cache.get([]))).toEqual([]);
    expect(await t.statementsOf(() => cache.set([]))).toEqual([]);
  });

  it("concurrent sets of the same keys in opposite orders never deadlock", async () => {
    const root = newRoot();
    const retries: unknown[] = [];
    const pools = [countingPool(t.schema.url, 2), countingPool(t.schema.url, 2)];
    const [a, b] = pools.map(
      ({ pool }) =>
        new PostgresCache({ pool, schema: t.schema.name, retry: { onRetry: (info) => retries.push(info) } }),
    ) as [PostgresCache, PostgresCache];
    try {
      const entries = entriesUnder(root, 200);
      const reversed = [...entries].reverse();
      for (let round = 0; round < 10; round++)
        await Promise.all([a.set(entries), b.set(reversed), a.set(reversed)]);
      expect(retries).toEqual([]);
      expect(await a.get(entries.map((entry) => entry.key))).toHaveLength(200);
    } finally {
      await Promise.all(pools.map(({ pool }) => pool.end()));
    }
  });
});

describe("what Postgres cannot hold", () => {
  it("refuses a key holding a NUL or half a surrogate pair, sending nothing", async () => {
    const cache = cacheOn();
    const root = newRoot();
    for (const key of ["a\u0000b", "cut \ud83d"]) {
      const sent = await t.statementsOf(async () => {
        const error = await refusal(
          cache.set([
            { key: [[root], "fine"], value: 1 },
            { key: [[root], key], value: 2 },
          ]),
        );
        expect(error).toMatchObject({ code: "INVALID_CACHE_OPERATION" });
        expect(await refusal(cache.get([[[root], key]]))).toMatchObject({ code: "INVALID_CACHE_OPERATION" });
      });
      expect(sent).toEqual([]);
    }
    expect(await cache.get([[[root], "fine"]])).toEqual([]);
  });

  it("keeps NULs and cut surrogates inside values and labels (JSON text escapes them)", async () => {
    const cache = cacheOn();
    const namespace = [newRoot(), "label\u0000with nul", "cut \ud83d"];
    const value = { note: "scanned\u0000text", cut: "half \ude00", at: new Date(0) };
    await cache.set([{ key: [namespace, "k"], value }]);
    expect(await cache.get([[namespace, "k"]])).toEqual([{ key: [namespace, "k"], value }]);
  });

  it("refuses a value the serializer refuses among 200, sending nothing", async () => {
    const cache = cacheOn();
    const entries = entriesUnder(newRoot(), 200);
    entries.push({ key: [[newRoot()], "f"], value: { run: () => 1 } });
    const sent = await t.statementsOf(async () => {
      expect(await refusal(cache.set(entries))).toMatchObject({ code: "NOT_SERIALIZABLE" });
    });
    expect(sent).toEqual([]);
    expect(await cache.get(entries.map((entry) => entry.key))).toEqual([]);
  });
});

describe("expiry and pruning", () => {
  async function insert(ns: string, count: number, expiresAt: string) {
    await t.admin.query(
      `INSERT INTO "${t.schema.name}".cache_entries (ns, key, value, expires_at)
       SELECT $1, 'k' || g, '{"":1}', ${expiresAt} FROM generate_series(1, $2::int) g`,
      [ns, count],
    );
  }

  it("pruneExpired deletes only expired entries, the longest expired first, at most `limit` a call", async () => {
    const cache = cacheOn();
    await cache.clear();
    await insert('["old"]', 15, "now() - interval '1 hour'");
    await insert('["recent"]', 15, "now() - interval '1 second'");
    await insert('["live"]', 10, "now() + interval '1 hour'");
    await insert('["kept"]', 10, "NULL");
    expect(
      await t.statementsOf(async () => expect(await cache.pruneExpired({ limit: 20 })).toBe(20)),
    ).toHaveLength(1);
    const { rows } = await t.admin.query<{ ns: string; n: number }>(
      `SELECT ns, count(*)::int AS n FROM "${t.schema.name}".cache_entries GROUP BY ns ORDER BY ns`,
    );
    expect(rows).toEqual([
      { ns: '["kept"]', n: 10 },
      { ns: '["live"]', n: 10 },
      { ns: '["recent"]', n: 10 },
    ]);
    expect(await cache.pruneExpired({ limit: 20 })).toBe(10);
    expect(await cache.pruneExpired()).toBe(0);
    expect(await cache.get([[["live"], "k1"]])).toHaveLength(1);
    expect(await cache.get([[["kept"], "k1"]])).toHaveLength(1);
  });

  it("prunes an entry set with a ttl once the ttl has passed, and refuses a limit that is not a count", async () => {
    const cache = cacheOn();
    const root = newRoot();
    await cache.clear();
    await cache.set([
      { key: [[root], "short"], value: 1, ttl: 0.05 },
      { key: [[root], "long"], value: 2, ttl: 3_600 },
      { key: [[root], "forever"], value: 3, ttl: 1e300 },
    ]);
    await sleep(100);
    expect(await cache.pruneExpired()).toBe(1);
    expect(
      (
        await cache.get([
          [[root], "long"],
          [[root], "forever"],
        ])
      ).length,
    ).toBe(2);
    for (const limit of [0, -1, 1.5, Number.NaN]) {
      expect(isPostgresSaverError(await refusal(cache.pruneExpired({ limit })), "INVALID_SAVER_INPUT")).toBe(
        true,
      );
    }
  });
});

describe("schemas", () => {
  it("two caches in different schemas do not see each other's entries, nor clear them", async () => {
    const here = cacheOn();
    const there = cacheOn(t.admin, other.current.name);
    const key: CacheFullKey = [["shared", "node"], "k"];
    await here.set([{ key, value: "here" }]);
    await there.set([{ key, value: "there" }]);
    expect(await here.get([key])).toEqual([{ key, value: "here" }]);
    expect(await there.get([key])).toEqual([{ key, value: "there" }]);
    await there.clear();
    expect(await there.get([key])).toEqual([]);
    expect(await here.get([key])).toEqual([{ key, value: "here" }]);
  });
});

describe("typed failures", () => {
  it("reports POSTGRES_UNAVAILABLE when Postgres cannot be reached, after the retries", async () => {
    const retries: unknown[] = [];
    const cache = new PostgresCache({
      connectionString: "postgres://postgres@127.0.0.1:1/postgres",
      retry: { maxAttempts: 3, baseDelayMs: 1, onRetry: (info) => retries.push(info.error) },
    });
    try {
      const error = await refusal(cache.get([[["n"], "k"]]));
      expect(isPostgresSaverError(error, "POSTGRES_UNAVAILABLE")).toBe(true);
      expect((error as Error).message).toContain("after 3 attempt(s)");
      expect(retries).toHaveLength(2);
    } finally {
      await cache.close();
    }
  });

  it("reports POSTGRES_SCHEMA_MISSING, saying to migrate, when the table does not exist", async () => {
    const cache = cacheOn(t.admin, `${t.schema.name}_never_migrated`);
    for (const call of [
      cache.get([[["n"], "k"]]),
      cache.set([{ key: [["n"], "k"], value: 1 }]),
      cache.pruneExpired(),
    ]) {
      const error = await refusal(call);
      expect(isPostgresSaverError(error, "POSTGRES_SCHEMA_MISSING")).toBe(true);
      expect((error as Error).message).toContain("migrate(");
    }
  });
});

interface PlanNode {
  "Node Type": string;
  "Relation Name"?: string;
  "Index Name"?: string;
  Plans?: PlanNode[];
}

const nodes = (plan: PlanNode): PlanNode[] => [plan, ...(plan.Plans ?? []).flatMap(nodes)];

function summary(plan: PlanNode) {
  const all = nodes(plan);
  return {
    seqScans: all.filter((node) => node["Node Type"] === "Seq Scan").map((node) => node["Relation Name"]),
    indexes: [...new Set(all.flatMap((node) => (node["Index Name"] ? [node["Index Name"]] : [])))].sort(),
  };
}

describe("plans (EXPLAIN), beside 100,000 entries", () => {
  const ROWS = 100_000;
  const s = () => `"${t.schema.name}"`;
  const keys = Array.from({ length: 200 }, (_, i) => `k${i * 97 + 1}`);

  beforeAll(async () => {
    await t.admin.query(
      `INSERT INTO ${s()}.cache_entries (ns, key, value, expires_at)
       SELECT '["plan","node' || (g % 50) || '"]', 'k' || g, '{"":"' || repeat('x', 200) || '"}',
              CASE WHEN g % 3 = 0 THEN now() + interval '1 hour' END
       FROM generate_series(1, $1::int) g`,
      [ROWS],
    );
    await t.admin.query(`VACUUM ANALYZE ${s()}.cache_entries`);
  }, 60_000);

  it("a get of 200 keys probes the primary key once per key, custom plan and generic alike", async () => {
    const namespaces = keys.map((key) => `["plan","node${Number(key.slice(1)) % 50}"]`);
    const { rows } = await t.admin.query(`EXPLAIN (FORMAT JSON) ${cacheGetSql(s())}`, [namespaces, keys]);
    expect(summary(rows[0]["QUERY PLAN"][0].Plan)).toEqual({ seqScans: [], indexes: ["cache_entries_pkey"] });
    expect(
      await cacheOn(t.admin).get(keys.map((key, i) => [JSON.parse(namespaces[i] as string), key])),
    ).toHaveLength(200);
    const client = await t.admin.connect();
    try {
      await client.query("SET plan_cache_mode = force_generic_plan");
      await client.query(`PREPARE cache_get_generic(text[], text[]) AS ${cacheGetSql(s())}`);
      const generic = await client.query(
        `EXPLAIN (FORMAT JSON) EXECUTE cache_get_generic(array_fill('["plan","node1"]'::text, ARRAY[200]),
           string_to_array($1, ','))`.replace("$1", `'${keys.join(",")}'`),
      );
      expect(summary(generic.rows[0]["QUERY PLAN"][0].Plan)).toEqual({
        seqScans: [],
        indexes: ["cache_entries_pkey"],
      });
    } finally {
      await client.query("DEALLOCATE ALL; RESET plan_cache_mode");
      client.release();
    }
  });

  it("pruneExpired reads the expiry index, not the table", async () => {
    const { rows } = await t.admin.query(`EXPLAIN (FORMAT JSON) ${cachePruneSql(s())}`, [10_000]);
    const plan = summary(rows[0]["QUERY PLAN"][0].Plan);
    expect(plan.seqScans).toEqual([]);
    expect(plan.indexes).toEqual(["cache_entries_expires_at_idx"]);
  });
});
