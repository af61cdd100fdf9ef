import pg from "pg";
import { describe, expect, it } from "vitest";
import { dockerIsReachable } from "./docker.ts";
import { getPostgres, LOCAL_POSTGRES_URL, resolvePostgres } from "./postgres.ts";
import { deleteRedisPrefix, getRedis, resolveRedis, uniqueRedisPrefix } from "./redis.ts";
import { createTestSchema, uniqueSchemaName } from "./test-schema.ts";

const NO_DOCKER = "tcp://127.0.0.1:1";

describe("finding Postgres", () => {
  it("takes DATABASE_URL first, without contacting anything", async () => {
    expect(await resolvePostgres({ DATABASE_URL: "postgres://elsewhere/db" })).toEqual({
      url: "postgres://elsewhere/db",
      source: "env",
    });
  });

  it("answers quickly that no Docker engine is there", async () => {
    expect(await dockerIsReachable(NO_DOCKER)).toBe(false);
    expect(await dockerIsReachable("unix:///nonexistent/docker.sock")).toBe(false);
  });

  it("without DATABASE_URL or Docker, uses localhost or says how to provide a server", async () => {
    const outcome = await resolvePostgres({ DOCKER_HOST: NO_DOCKER }).catch((error: unknown) => error);
    if (outcome instanceof Error) {
      expect(outcome.message).toContain("DATABASE_URL");
      expect(outcome.message).toContain("Docker");
    } else {
      expect(outcome).toEqual({ url: LOCAL_POSTGRES_URL, source: "localhost" });
    }
  });

  it("gives each caller a schema of its own and drops it", async () => {
    const schema = await createTestSchema("Fixture Test!");
    expect(schema.name).toMatch(/^fixture_test_[a-z0-9_]+$/);
    const client = new pg.Client({ connectionString: await getPostgres() });
    await client.connect();
    try {
      const exists = async () =>
        (await client.query("SELECT 1 FROM pg_namespace WHERE nspname = $1", [schema.name])).rowCount;
      expect(await exists()).toBe(1);
      await schema.drop();
      await schema.drop();
      expect(await exists()).toBe(0);
    } finally {
      await client.end();
    }
  });

  it("makes schema names that are valid and unique", () => {
    const a = uniqueSchemaName("9 lives".repeat(20));
    expect(a.length).toBeLessThanOrEqual(63);
    expect(a).toMatch(/^[a-z_][a-z0-9_]*$/);
    expect(uniqueSchemaName("x")).not.toBe(uniqueSchemaName("x"));
  });
});

describe("finding Redis", () => {
  it("takes REDIS_URL first", async () => {
    expect(await resolveRedis({ REDIS_URL: "redis://elsewhere:6379" })).toEqual({
      url: "redis://elsewhere:6379",
      source: "env",
    });
  });

  it("reaches a real Redis and cleans a test's key prefix", async () => {
    const url = await getRedis();
    const prefix = uniqueRedisPrefix("fixture");
    const { Redis } = await import("ioredis");
    const client = new Redis(url);
    try {
      await client.set(`${prefix}:a`, "1");
      await client.set(`${prefix}:b`, "2");
      await client.set(`${prefix}x`, "3");
      await deleteRedisPrefix(url, `${prefix}:`);
      expect(await client.exists(`${prefix}:a`, `${prefix}:b`, `${prefix}x`)).toBe(1);
      await client.del(`${prefix}x`);
    } finally {
      client.disconnect();
    }
  });
});
