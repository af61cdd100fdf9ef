// The constructors refuse an option they do not take, naming it (and the one meant): a misspelt
// `shema` went to the default schema, another deployment's tables perhaps, without a word.
import pg from "pg";
import { describe, expect, it } from "vitest";
import { PostgresCache } from "./postgres-cache.ts";
import { PostgresSaver } from "./postgres-saver.ts";
import { PostgresStore } from "./postgres-store.ts";

describe("PostgresSaver, PostgresStore and PostgresCache options", () => {
  const pool = new pg.Pool({ connectionString: "postgres://nobody@127.0.0.1:1/none" }); // never connects

  it("refuse a key they do not take, naming the one meant, before building a pool", () => {
    const made: Array<[() => unknown, string]> = [
      [
        () => new PostgresSaver({ connectionString: "postgres://x@127.0.0.1:1/y", shema: "a" } as never),
        '"shema"',
      ],
      [() => new PostgresStore({ pool, Schema: "a" } as never), '"Schema" is schema here'],
      [() => new PostgresCache({ pool, schema_name: "a" } as never), '"schema_name"'],
    ];
    for (const [make, named] of made)
      expect(make).toThrow(
        expect.objectContaining({ code: "INVALID_SAVER_INPUT", message: expect.stringContaining(named) }),
      );
  });

  it("refuse a number that is not a whole one, no options, or a pool given bare (LangGraph's form), saying so", () => {
    const made: Array<[() => unknown, string]> = [
      [() => new PostgresSaver({ pool, listPageSize: Number.NaN }), "listPageSize is a whole number"],
      [() => new PostgresSaver({ pool, listPageSize: 2.5 }), "listPageSize is a whole number"],
      [() => new PostgresSaver({ pool, listDeltas: { minSnapshotBytes: Number.NaN } }), "minSnapshotBytes"],
      [() => new PostgresSaver({ pool, listDeltas: { maxChainLength: 0 } }), "maxChainLength"],
      [() => new PostgresSaver(undefined as never), "takes its options"],
      [() => new PostgresSaver(pool as never), "new PostgresSaver({ pool }), not new PostgresSaver(pool)"],
      [() => new PostgresStore(pool as never), "new PostgresStore({ pool })"],
    ];
    for (const [make, said] of made)
      expect(make).toThrow(
        expect.objectContaining({ code: "INVALID_SAVER_INPUT", message: expect.stringContaining(said) }),
      );
  });

  it("take every option they document", async () => {
    const saver = new PostgresSaver({ pool, schema: "a", retry: {}, listDeltas: false, listPageSize: 10 });
    const store = new PostgresStore({ pool, schema: "a", retry: {} });
    const cache = new PostgresCache({ pool, schema: "a", retry: {}, maxConnections: 2 });
    expect([saver, store, cache].every((made) => made !== undefined)).toBe(true);
    await pool.end();
  });
  it("fromConnString refuses what is not a connection string, or a pool or string in its options, without quoting it", () => {
    const made: Array<[() => unknown, string]> = [
      [() => PostgresSaver.fromConnString(undefined as never), "takes a Postgres connection string"],
      [() => PostgresStore.fromConnString("  "), "got an empty string"],
      [
        () => PostgresSaver.fromConnString("postgres://x@127.0.0.1:1/y", pool as never),
        "new PostgresSaver({ pool })",
      ],
      [
        () => PostgresSaver.fromConnString("postgres://x@127.0.0.1:1/y", { pool } as never),
        "not `pool` in its options",
      ],
      [
        () => PostgresStore.fromConnString("postgres://x:secret@127.0.0.1:1/y", { shema: "a" } as never),
        '"shema"',
      ],
    ];
    for (const [make, said] of made) {
      expect(make).toThrow(
        expect.objectContaining({ code: "INVALID_SAVER_INPUT", message: expect.stringContaining(said) }),
      );
      expect(make).not.toThrow(expect.objectContaining({ message: expect.stringContaining("secret") }));
    }
  });
});
