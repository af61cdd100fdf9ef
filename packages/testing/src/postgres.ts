import pg from "pg";
import { dockerIsReachable } from "./docker.ts";

/** Where tests look for Postgres when neither DATABASE_URL nor Docker is available. */
export const LOCAL_POSTGRES_URL = "postgres://postgres@127.0.0.1:5432/postgres";

/** The image testcontainers starts when a Docker engine is reachable. */
export const POSTGRES_IMAGE = "postgres:16-alpine";

/** What stops a started container; `undefined` when the server was not started by us. */
export type StopServer = () => Promise<void>;

export interface ResolvedServer {
  url: string;
  source: "env" | "testcontainers" | "localhost";
  stop?: StopServer;
}

let cached: Promise<ResolvedServer> | undefined;

/** True when a client can connect to `url` and run `SELECT 1` within a couple of seconds. */
export async function postgresAnswers(url: string): Promise<boolean> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 2_000 });
  client.on("error", () => {});
  try {
    await client.connect();
    await client.query("SELECT 1");
    return true;
  } catch {
    return false;
  } finally {
    await client.end().catch(() => {});
  }
}

async function startContainer(): Promise<ResolvedServer> {
  const { PostgreSqlContainer } = await import("@testcontainers/postgresql");
  const container = await new PostgreSqlContainer(POSTGRES_IMAGE).start();
  return {
    url: container.getConnectionUri(),
    source: "testcontainers",
    stop: async () => {
      await container.stop();
    },
  };
}

/**
 * Finds a real Postgres, in this order: `DATABASE_URL`; a testcontainers server when a Docker
 * engine answers; `postgres://postgres@127.0.0.1:5432/postgres` when it accepts a connection.
 * Otherwise throws, saying how to provide one. Tests never mock Postgres.
 */
export async function resolvePostgres(env: NodeJS.ProcessEnv = process.env): Promise<ResolvedServer> {
  const fromEnv = env.DATABASE_URL;
  if (fromEnv !== undefined && fromEnv !== "") return { url: fromEnv, source: "env" };
  if (await dockerIsReachable(env.DOCKER_HOST)) return startContainer();
  if (await postgresAnswers(LOCAL_POSTGRES_URL)) return { url: LOCAL_POSTGRES_URL, source: "localhost" };
  throw new Error(
    "No Postgres for the integration tests: DATABASE_URL is not set, no Docker engine answered " +
      `(DOCKER_HOST or /var/run/docker.sock), and nothing accepted a connection at ${LOCAL_POSTGRES_URL}. ` +
      "Set DATABASE_URL=postgres://user:password@host:port/db, start Docker (testcontainers then runs " +
      `${POSTGRES_IMAGE}), or run Postgres locally with trust auth for the postgres user.`,
  );
}

/**
 * The connection URL of a real Postgres for tests, resolved once per process (see
 * `resolvePostgres`). A container started here lives until the process exits (testcontainers'
 * reaper removes it); the vitest global setup starts one for the whole run instead.
 */
export async function getPostgres(): Promise<string> {
  cached ??= resolvePostgres();
  try {
    return (await cached).url;
  } catch (error) {
    cached = undefined;
    throw error;
  }
}
