// vitest `globalSetup`: resolves Postgres and Redis once for the whole run (starting
// testcontainers when that is the way), and hands the URLs to every test worker through
// DATABASE_URL / REDIS_URL. When a server cannot be found the run goes on: unit tests do not
// need one, and `getPostgres()` / `getRedis()` then fail in the tests that do, with the reason.
import { resolvePostgres, type StopServer } from "./postgres.ts";
import { resolveRedis } from "./redis.ts";

export default async function setup(): Promise<() => Promise<void>> {
  const stops: StopServer[] = [];
  const [postgres, redis] = await Promise.allSettled([resolvePostgres(), resolveRedis()]);
  if (postgres.status === "fulfilled") {
    process.env.DATABASE_URL = postgres.value.url;
    if (postgres.value.stop) stops.push(postgres.value.stop);
  }
  if (redis.status === "fulfilled") {
    process.env.REDIS_URL = redis.value.url;
    if (redis.value.stop) stops.push(redis.value.stop);
  }
  return async () => {
    await Promise.allSettled(stops.map((stop) => stop()));
  };
}
