import { randomBytes } from "node:crypto";
import { Redis } from "ioredis";
import { dockerIsReachable } from "./docker.ts";
import type { ResolvedServer } from "./postgres.ts";

/** Where tests look for Redis when neither REDIS_URL nor Docker is available. */
export const LOCAL_REDIS_URL = "redis://127.0.0.1:6379";

/** The image testcontainers starts when a Docker engine is reachable. */
export const REDIS_IMAGE = "redis:7-alpine";

let cached: Promise<ResolvedServer> | undefined;

/** True when Redis at `url` answers PING within a couple of seconds. */
export async function redisAnswers(url: string): Promise<boolean> {
  const client = new Redis(url, {
    lazyConnect: true,
    connectTimeout: 2_000,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
    enableOfflineQueue: false,
  });
  client.on("error", () => {});
  try {
    await client.connect();
    return (await client.ping()) === "PONG";
  } catch {
    return false;
  } finally {
    client.disconnect();
  }
}

async function startContainer(): Promise<ResolvedServer> {
  const { RedisContainer } = await import("@testcontainers/redis");
  const container = await new RedisContainer(REDIS_IMAGE)
    .withCommand(["redis-server", "--maxmemory-policy", "noeviction"])
    .start();
  return {
    url: container.getConnectionUrl(),
    source: "testcontainers",
    stop: async () => {
      await container.stop();
    },
  };
}

/**
 * Finds a real Redis, in this order: `REDIS_URL`; a testcontainers server when a Docker engine
 * answers; `redis://127.0.0.1:6379` when it answers PING. Otherwise throws, saying how to
 * provide one.
 */
export async function resolveRedis(env: NodeJS.ProcessEnv = process.env): Promise<ResolvedServer> {
  const fromEnv = env.REDIS_URL;
  if (fromEnv !== undefined && fromEnv !== "") return { url: fromEnv, source: "env" };
  if (await dockerIsReachable(env.DOCKER_HOST)) return startContainer();
  if (await redisAnswers(LOCAL_REDIS_URL)) return { url: LOCAL_REDIS_URL, source: "localhost" };
  throw new Error(
    "No Redis for the integration tests: REDIS_URL is not set, no Docker engine answered " +
      `(DOCKER_HOST or /var/run/docker.sock), and nothing answered PING at ${LOCAL_REDIS_URL}. ` +
      `Set REDIS_URL=redis://host:port, start Docker (testcontainers then runs ${REDIS_IMAGE}), ` +
      "or run redis-server locally.",
  );
}

/** The connection URL of a real Redis for tests, resolved once per process (see `resolveRedis`). */
export async function getRedis(): Promise<string> {
  cached ??= resolveRedis();
  try {
    return (await cached).url;
  } catch (error) {
    cached = undefined;
    throw error;
  }
}

/** A key prefix no other test (or run) uses: give each test its own queue prefix. */
export function uniqueRedisPrefix(label: string): string {
  return `test-${label.replace(/[^A-Za-z0-9_-]+/g, "-")}-${process.pid}-${randomBytes(4).toString("hex")}`;
}

/** Deletes every key starting with `prefix` (SCAN, not KEYS): the cleanup for `uniqueRedisPrefix`. */
export async function deleteRedisPrefix(url: string, prefix: string): Promise<void> {
  const client = new Redis(url, { maxRetriesPerRequest: 1 });
  client.on("error", () => {});
  try {
    let cursor = "0";
    do {
      const [next, keys] = await client.scan(cursor, "MATCH", `${prefix}*`, "COUNT", 500);
      cursor = next;
      if (keys.length > 0) await client.unlink(...keys);
    } while (cursor !== "0");
  } finally {
    client.disconnect();
  }
}
