// What the PipelinedPool tests share: a real Postgres, the pools a test made (ended after it),
// and ways to see what a statement came to without an unhandled rejection.
import { randomUUID } from "node:crypto";
import { setTimeout as sleep } from "node:timers/promises";
import { getPostgres, tcpProxy } from "@layover/testing";
import pg from "pg";
import { afterAll, afterEach, beforeAll } from "vitest";
import { PipelinedPool } from "../pipelined-pool.ts";

export interface LaneTests {
  /** The test database's URL (set before the first test). */
  url(): string;
  /** Ends `pool` after the test. */
  track<P extends pg.Pool>(pool: P): P;
  /** A tcpProxy to the test database, closed after the test (before its pools end). */
  proxied(): ReturnType<typeof tcpProxy>;
  /** A PipelinedPool of two lanes (tracked) whose connections carry an application_name of their own. */
  pipelined(): { pool: PipelinedPool; appName: string };
  /** The server's sessions named `appName`. */
  backends(appName: string): Promise<number>;
  /** A pool of its own for what a test does beside the pool it tests (locks, tables). */
  admin(): pg.Pool;
}

/** Registers the hooks of a PipelinedPool test file. */
export function laneTests(): LaneTests {
  let url = "";
  let admin: pg.Pool | undefined;
  const pools: pg.Pool[] = [];
  const proxies: Awaited<ReturnType<typeof tcpProxy>>[] = [];
  beforeAll(async () => {
    url = await getPostgres();
    admin = new pg.Pool({ connectionString: url, max: 2 });
  });
  afterEach(async () => {
    // Proxies first: what waits on a connection they hold silent then settles.
    await Promise.all(proxies.splice(0).map((proxy) => proxy.close()));
    await Promise.all(pools.splice(0).map((pool) => pool.end().catch(() => undefined)));
  });
  afterAll(async () => {
    await admin?.end();
  });
  const track = <P extends pg.Pool>(pool: P): P => {
    pools.push(pool);
    return pool;
  };
  const adminPool = () => {
    if (admin === undefined) throw new Error("laneTests: used before its beforeAll ran");
    return admin;
  };
  return {
    url: () => url,
    track,
    async proxied() {
      const proxy = await tcpProxy(url);
      proxies.push(proxy);
      return proxy;
    },
    admin: adminPool,
    pipelined() {
      const appName = `pipelined-${randomUUID().slice(0, 8)}`;
      const withName = new URL(url);
      withName.searchParams.set("application_name", appName);
      return {
        pool: track(new PipelinedPool({ connectionString: withName.toString(), max: 4 }, 2)),
        appName,
      };
    },
    async backends(appName) {
      const { rows } = await adminPool().query(
        "SELECT count(*)::int AS n FROM pg_stat_activity WHERE application_name = $1",
        [appName],
      );
      return rows[0].n as number;
    },
  };
}

/** "answered", or "failed: <message>" — a promise that never rejects unhandled. */
export const settledOf = (promise: Promise<unknown>): Promise<string> =>
  promise.then(
    () => "answered",
    (error: Error) => `failed: ${error.message}`,
  );

/** What `promise` came to within `ms`, or "never settled". */
export const within = (promise: Promise<string>, ms: number): Promise<string> =>
  Promise.race([promise, sleep(ms).then(() => "never settled")]);

/** Waits until `check` holds, polling; fails after 5 s saying what did not happen. */
export async function eventually(check: () => boolean | Promise<boolean>, what: string): Promise<void> {
  for (const deadline = Date.now() + 5_000; !(await check()); await sleep(20))
    if (Date.now() > deadline) throw new Error(`not within 5 s: ${what}`);
}
