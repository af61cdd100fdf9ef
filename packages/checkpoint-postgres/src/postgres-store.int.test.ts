// What PostgresStore does beyond the store contract that a user would notice: puts racing on one
// key, labels that are SQL wildcards or need quoting, batches that fail midway, round trips,
// typed failures, and code point order on a database whose own collation is another.
import { randomBytes, randomUUID } from "node:crypto";
import { compareText, type Embeddings, type Operation } from "@layover/checkpoint";
import { WordEmbeddings } from "@layover/checkpoint/conformance";
import pg from "pg";
import { describe, expect, it } from "vitest";
import { isPostgresSaverError } from "./errors.ts";
import { migrate } from "./migrate.ts";
import { PostgresStore } from "./postgres-store.ts";
import { bucketLock, LOCK_BUCKETS } from "./sql/store-params.ts";
import { useCountedSaver } from "./test-support/counted-saver.ts";
import { countingPool, lockedBackends } from "./test-support/pools.ts";

const t = useCountedSaver("postgres_store");
/** A root label of the test's own. */
const newRoot = () => `pg-store-${randomUUID()}`;
const storeOn = (pool: pg.Pool = t.counted.pool) => new PostgresStore({ pool, schema: t.schema.name });
/** A store with an index of `embeddings` (word counts by default: 8 dims) on the field "text". */
const indexedOn = (embeddings: Embeddings = new WordEmbeddings(), dims = 8, pool: pg.Pool = t.counted.pool) =>
  new PostgresStore({ pool, schema: t.schema.name, index: { dims, embeddings, fields: ["text"] } });

async function refusal(call: Promise<unknown>): Promise<unknown> {
  return call.then(
    () => expect.unreachable("the call should have failed"),
    (error: unknown) => error,
  );
}

describe("puts racing on one key", () => {
  it.each(["ROLLBACK", "COMMIT"])(
    "two stores on two pools put a key another transaction is inserting (%s): both succeed, one item stays, the next put wins",
    async (outcome) => {
      const root = newRoot();
      const pools = [countingPool(t.schema.url, 1), countingPool(t.schema.url, 1)];
      const [a, b] = pools.map(({ pool }) => storeOn(pool)) as [PostgresStore, PostgresStore];
      const blocker = await t.admin.connect();
      try {
        await blocker.query("BEGIN");
        await blocker.query(
          `INSERT INTO "${t.schema.name}".store_items VALUES ($1, 'k', '{"by": "blocker"}', now(), now())`,
          [[root]],
        );
        const racing = [a.put([root], "k", { by: "a" }), b.put([root], "k", { by: "b" })];
        for (const { appName } of pools) await lockedBackends(t.admin, appName);
        await blocker.query(outcome);
        await Promise.all(racing);
        const item = await a.get([root], "k");
        expect(["a", "b"]).toContain(item?.value.by);
        expect(item?.updatedAt.getTime()).toBeGreaterThanOrEqual(item?.createdAt.getTime() ?? Infinity);
        expect(await b.search([root])).toHaveLength(1);
        await b.put([root], "k", { by: "b, later" });
        expect((await a.get([root], "k"))?.value).toEqual({ by: "b, later" });
      } finally {
        await blocker.query("ROLLBACK").catch(() => undefined);
        blocker.release();
        await Promise.all(pools.map(({ pool }) => pool.end()));
      }
    },
  );
});

describe("labels", () => {
  it("matches labels holding % and _ as they are, never as wildcards", async () => {
    const store = storeOn();
    const root = newRoot();
    const put = (labels: string[], key: string): Operation => ({
      namespace: [root, ...labels],
      key,
      value: {},
    });
    await store.batch([
      put(["a%"], "percent"),
      put(["a%", "deeper"], "percent, deeper"),
      put(["a_"], "underscore"),
      put(["ab"], "ab"),
      put(["a_b"], "a_b"),
      put(["a"], "a"),
    ]);
    const keys = async (prefix: string[]) =>
      (await store.search([root, ...prefix])).map((item) => item.key).sort();
    expect(await keys(["a%"])).toEqual(["percent", "percent, deeper"]);
    expect(await keys(["a_"])).toEqual(["underscore"]);
    expect(await keys(["a"])).toEqual(["a"]);
    expect(await keys(["%"])).toEqual([]);
    expect(await store.listNamespaces({ prefix: [root, "a_"] })).toEqual([[root, "a_"]]);
    expect(await store.listNamespaces({ prefix: [root, "a%"], maxDepth: 2 })).toEqual([[root, "a%"]]);
  });

  it("keeps labels and keys that a Postgres array literal would quote, as they were put", async () => {
    const store = storeOn();
    const root = newRoot();
    const labels = ['say "hi"', "back\\slash", "{braces}", "a,b", "NULL", " spaced ", "ü🙂"];
    await store.batch(labels.map((label) => ({ namespace: [root, label], key: label, value: { label } })));
    for (const label of labels) {
      expect(await store.get([root, label], label)).toMatchObject({ namespace: [root, label], key: label });
    }
    const listed = await store.listNamespaces({ prefix: [root] });
    expect(listed).toEqual([...labels].sort(compareText).map((label) => [root, label]));
  });
});

describe("a batch that fails midway", () => {
  it("refused by the contract: sends nothing", async () => {
    const store = storeOn();
    const root = newRoot();
    const sent = await t.statementsOf(async () => {
      const error = await refusal(
        store.batch([
          { namespace: [root], key: "fine", value: { ok: true } },
          { namespace: [root], key: "bad", value: { at: new Date(0) } },
        ]),
      );
      expect(error).toMatchObject({ code: "INVALID_STORE_OPERATION" });
    });
    expect(sent).toEqual([]);
  });

  it("refused by Postgres: rolls back the statements before it", async () => {
    const store = storeOn();
    const root = newRoot();
    // A row the contract lets through and Postgres refuses: a constraint of this test's own.
    const table = `"${t.schema.name}".store_items`;
    await t.admin.query(`ALTER TABLE ${table} ADD CONSTRAINT refused_here CHECK (key <> 'refused')`);
    try {
      const sent = await t.statementsOf(async () => {
        const error = await refusal(
          store.batch([
            { namespace: [root], key: "k", value: { v: 1 } },
            { namespace: [root], key: "k", value: { v: 2 } },
            { namespace: [root], key: "refused", value: {} },
          ]),
        );
        expect(isPostgresSaverError(error, "POSTGRES_QUERY_FAILED")).toBe(true);
      });
      expect(sent.at(0)).toBe("BEGIN");
      expect(sent.at(-1)).toBe("ROLLBACK");
      expect(await store.get([root], "k")).toBeNull();
    } finally {
      await t.admin.query(`ALTER TABLE ${table} DROP CONSTRAINT refused_here`);
    }
  });
});

describe("round trips", () => {
  it("sends a batch of reads as one statement, writes of distinct keys as one, and both in a transaction", async () => {
    const store = storeOn();
    const root = newRoot();
    const puts: Operation[] = ["a", "b", "c"].map((key) => ({ namespace: [root], key, value: { key } }));
    expect(await t.statementsOf(() => store.batch(puts))).toHaveLength(1);
    const reads: Operation[] = [
      { namespace: [root], key: "a" },
      { namespacePrefix: [root], filter: { key: { $in: ["a", "c"] } } },
      { matchConditions: [{ matchType: "prefix", path: [root] }], limit: 10, offset: 0 },
      { namespace: [root], key: "missing" },
    ];
    let results: unknown[] = [];
    expect(await t.statementsOf(async () => (results = await store.batch(reads)))).toHaveLength(1);
    expect(results).toMatchObject([{ key: "a" }, [{ key: "a" }, { key: "c" }], [[root]], null]);
    const mixed = await t.statementsOf(() =>
      store.batch([...puts, ...reads, { namespace: [root], key: "a", value: null }]),
    );
    // BEGIN, the locks of the keys it writes (no deadlock with another order), the puts, the
    // reads, the delete, COMMIT.
    expect(mixed).toHaveLength(6);
  });
});

describe("typed failures", () => {
  it("reports POSTGRES_UNAVAILABLE when Postgres cannot be reached, for reads and for transactions", async () => {
    const retries: unknown[] = [];
    const store = new PostgresStore({
      connectionString: "postgres://postgres@127.0.0.1:1/postgres",
      retry: { maxAttempts: 3, baseDelayMs: 1, onRetry: (info) => retries.push(info.error) },
    });
    try {
      const read = await refusal(store.get(["users"], "k"));
      expect(isPostgresSaverError(read, "POSTGRES_UNAVAILABLE")).toBe(true);
      expect((read as Error).message).toContain("after 3 attempt(s)");
      expect(retries).toHaveLength(2);
      const batch = await refusal(
        store.batch([
          { namespace: ["users"], key: "k", value: {} },
          { namespace: ["users"], key: "k" },
        ]),
      );
      expect(isPostgresSaverError(batch, "POSTGRES_UNAVAILABLE")).toBe(true);
    } finally {
      await store.close();
    }
  });

  it("reports POSTGRES_SCHEMA_MISSING, saying to migrate, when the table does not exist; close() leaves a given pool open", async () => {
    const store = new PostgresStore({ pool: t.admin, schema: `${t.schema.name}_never_migrated` });
    const error = await refusal(store.search(["users"]));
    expect(isPostgresSaverError(error, "POSTGRES_SCHEMA_MISSING")).toBe(true);
    expect((error as Error).message).toContain("migrate(");
    await store.close();
    expect((await t.admin.query("SELECT 1 AS one")).rows).toEqual([{ one: 1 }]);
  });
});

describe("on a database whose collation is not C", () => {
  it("still orders namespaces, keys and string comparisons by code point", async () => {
    const name = `store_icu_${process.pid}_${randomBytes(4).toString("hex")}`;
    await t.admin.query(`CREATE DATABASE ${name} TEMPLATE template0 LOCALE_PROVIDER icu ICU_LOCALE 'en'`);
    const url = new URL(t.schema.url);
    url.pathname = `/${name}`;
    const pool = new pg.Pool({ connectionString: url.toString(), max: 2 });
    try {
      await migrate(pool, { schema: "layover" });
      const store = new PostgresStore({ pool });
      const labels = ["a", "z", "Z", "ü"]; // "en" orders them a ü z Z; code points Z a z ü
      // One statement: one updated_at for all, so the search orders them by namespace, then key.
      await store.batch(labels.map((label) => ({ namespace: ["n", label], key: label, value: { label } })));
      expect(await store.listNamespaces({ prefix: ["n"] })).toEqual([
        ["n", "Z"],
        ["n", "a"],
        ["n", "z"],
        ["n", "ü"],
      ]);
      expect((await store.search(["n"])).map((item) => item.key)).toEqual(["Z", "a", "z", "ü"]);
      const above = await store.search(["n"], { filter: { label: { $gt: "Z" } } });
      expect(above.map((item) => item.key)).toEqual(["a", "z", "ü"]);
    } finally {
      await pool.end();
      await t.admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    }
  });
});

describe("semantic search (a store with an index)", () => {
  it("a put by a store without an index (a client without storeIndex) leaves the vectors of the item's old value counting for nothing", async () => {
    const root = newRoot();
    const indexed = indexedOn();
    const plain = storeOn();
    await indexed.put([root], "k", { text: "pizza" });
    await indexed.put([root], "other", { text: "pizza" });
    // The item no longer says pizza: searching for pizza must not score it by its old text.
    await plain.put([root], "k", { text: "sushi" });
    await plain.batch([{ namespace: [root], key: "other", value: { text: "sushi" } }]);
    const found = await indexed.search([root], { query: "pizza" });
    // Both unscored, in search order (the two puts may share a millisecond: then by key).
    expect(found.map((item) => [item.key, item.value.text, item.score]).sort()).toEqual([
      ["k", "sushi", undefined],
      ["other", "sushi", undefined],
    ]);
  });

  it("a vector Postgres's real cannot hold: a tiny number is taken (as InMemoryStore takes it), a huge one refused as INVALID_STORE_OPERATION, nothing written", async () => {
    const root = newRoot();
    const tiny = indexedOn(new WordEmbeddings(() => [1e-50, 1, 0, 0, 0, 0, 0, 0]));
    await tiny.put([root], "tiny", { text: "pizza" });
    expect((await tiny.search([root], { query: "pizza" })).map((item) => item.score)).toEqual([1]);
    const huge = indexedOn(
      new WordEmbeddings((text) =>
        text === "cake" ? [1e39, 0, 0, 0, 0, 0, 0, 0] : [0, 1, 0, 0, 0, 0, 0, 0],
      ),
    );
    const error = await refusal(
      huge.batch([
        { namespace: [root], key: "fine", value: { text: "tea" } },
        { namespace: [root], key: "huge", value: { text: "cake" } },
      ]),
    );
    expect(error).toMatchObject({ code: "INVALID_STORE_OPERATION" });
    expect((await huge.search([root])).map((item) => item.key)).toEqual(["tiny"]);
  });

  it("scores an item's own text 1 (to double precision's rounding, as InMemoryStore does), never above", async () => {
    const root = newRoot();
    const dims = 1536;
    const vector = (text: string) => {
      let seed = [...text].reduce((h, c) => (h * 31 + (c.codePointAt(0) as number)) >>> 0, 7) || 1;
      return Array.from({ length: dims }, () => {
        seed = (seed * 48271) % 2147483647;
        return seed / 2147483647 - 0.5;
      });
    };
    const store = indexedOn(new WordEmbeddings(vector), dims);
    const texts = Array.from({ length: 40 }, (_, i) => `memory ${i}`);
    await store.batch(texts.map((text, i) => ({ namespace: [root], key: `k${i}`, value: { text } })));
    const scores: number[] = [];
    for (const text of texts)
      scores.push((await store.search([root], { query: text, limit: 1 }))[0]?.score as number);
    // The stored vector is real (float4), its norm the double one's: their quotient overshoots 1.
    expect(scores.filter((score) => score > 1 + 1e-12)).toEqual([]);
  });
});

describe("batches writing the same keys at once", () => {
  /** Two stores on pools of their own, recording the failures their batches were retried for. */
  const racingStores = () => {
    const deadlocks: unknown[] = [];
    const pools = [countingPool(t.schema.url, 2), countingPool(t.schema.url, 2)];
    const [a, b] = pools.map(
      ({ pool }) =>
        new PostgresStore({
          pool,
          schema: t.schema.name,
          retry: { onRetry: (info) => deadlocks.push((info.error as { code?: string }).code) },
        }),
    ) as [PostgresStore, PostgresStore];
    return { a, b, deadlocks, pools };
  };

  it("batches that put and delete the same keys, one write statement each, never deadlock (store-write.ts locks rows in one order)", async () => {
    const root = newRoot();
    const { a, b, deadlocks, pools } = racingStores();
    const keys = Array.from({ length: 12 }, (_, i) => `k${i}`);
    /** Every key, in `order`, each put but every fifth (from `shift`) deleted. */
    const batchOf = (order: string[], shift: number): Operation[] =>
      order.map((key, i) => ({ namespace: [root], key, value: (i + shift) % 5 === 0 ? null : { key } }));
    try {
      // The store-write statement sorts its puts, but its deletes lock rows in their own order, so
      // two such statements deadlock (40P01, retried after deadlock_timeout). Older than the index:
      // a store without one does it too.
      for (let round = 0; round < 30 && deadlocks.length === 0; round++) {
        await Promise.all(
          [a, b, a, b].map((store, i) => store.batch(batchOf(i % 2 ? [...keys].reverse() : keys, round + i))),
        );
      }
      expect(deadlocks).toEqual([]);
    } finally {
      await Promise.all(pools.map(({ pool }) => pool.end()));
    }
  });

  it("a batch holds at most one advisory lock per bucket, whatever its size: the server's lock table is shared", async () => {
    // Found in review: one lock per key made a batch of 2,000 puts hold 1,999 locks (the lock
    // table holds max_locks_per_transaction × connections, 6,400 by default: a batch of 20,000
    // failed with 53200 "out of shared memory", and other sessions' locks with it).
    const root = newRoot();
    const counted = countingPool(t.schema.url, 1);
    const store = new PostgresStore({ pool: counted.pool, schema: t.schema.name });
    const blocker = await t.admin.connect();
    try {
      // Hold the bucket the batch locks last: it waits there, holding all of its others.
      await blocker.query("BEGIN");
      await blocker.query(`SELECT ${bucketLock(`"${t.schema.name}"`, LOCK_BUCKETS - 1)}`);
      const keys = Array.from({ length: 2_000 }, (_, i) => `k${i}`);
      const writing = store.batch(keys.map((key) => ({ namespace: [root], key, value: { key } })));
      const [pid] = await lockedBackends(t.admin, counted.appName);
      const held = await t.admin.query<{ n: number }>(
        "SELECT count(*)::int AS n FROM pg_locks WHERE pid = $1 AND locktype = 'advisory' AND granted",
        [pid],
      );
      await blocker.query("ROLLBACK");
      await writing;
      expect(held.rows[0]?.n).toBe(LOCK_BUCKETS - 1);
      expect((await store.get([root], "k1999"))?.value).toEqual({ key: "k1999" });
    } finally {
      await blocker.query("ROLLBACK").catch(() => undefined);
      blocker.release();
      await counted.pool.end();
    }
  });

  it("batches of several statements (a read between writes) writing the same keys in opposite orders never deadlock", async () => {
    const root = newRoot();
    const { a, b, deadlocks, pools } = racingStores();
    /** Puts `first`, reads, puts `second`: three statements in one transaction. */
    const batchOf = (first: string, second: string, round: number): Operation[] => [
      { namespace: [root], key: first, value: { round } },
      { namespace: [root], key: "elsewhere" },
      { namespace: [root], key: second, value: { round } },
    ];
    try {
      for (let round = 0; round < 30 && deadlocks.length === 0; round++) {
        await Promise.all([a.batch(batchOf("x", "y", round)), b.batch(batchOf("y", "x", round))]);
      }
      expect(deadlocks).toEqual([]);
      expect((await a.get([root], "x"))?.value).toEqual({ round: 29 });
    } finally {
      await Promise.all(pools.map(({ pool }) => pool.end()));
    }
  });
});
