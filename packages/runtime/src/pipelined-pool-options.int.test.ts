// PipelinedPool honours the pg.Pool options that say how long a connection lives, as the pool's
// own connections do: its lanes are replaced after maxLifetimeSeconds or maxUses (what is on
// them still answered), `min` of them stay through idleTimeoutMillis, and with allowExitOnIdle
// an idle lane does not hold the process open.
import { execFile } from "node:child_process";
import { randomUUID } from "node:crypto";
import { setTimeout as sleep } from "node:timers/promises";
import { promisify } from "node:util";
import type pg from "pg";
import { expect, it } from "vitest";
import { PipelinedPool } from "./pipelined-pool.ts";
import { eventually, laneTests } from "./test-support/lanes.ts";

const run = promisify(execFile);
const { url, track, backends } = laneTests();

/** A PipelinedPool of two lanes with `options`, its connections named for backends(). */
function lanes(options: pg.PoolConfig): { pool: PipelinedPool; appName: string } {
  const appName = `pipelined-opts-${randomUUID().slice(0, 8)}`;
  const withName = new URL(url());
  withName.searchParams.set("application_name", appName);
  return {
    pool: track(new PipelinedPool({ connectionString: withName.toString(), max: 4, ...options }, 2)),
    appName,
  };
}

const pidOf = (pool: pg.Pool) =>
  pool.query<{ pid: number }>("SELECT pg_backend_pid() AS pid").then((r) => r.rows[0]?.pid as number);

it("replaces lanes older than maxLifetimeSeconds though they are never idle: every statement answered, none spilled", async () => {
  const { pool, appName } = lanes({ maxLifetimeSeconds: 1 });
  const pids: number[] = [];
  for (const until = Date.now() + 2_600; Date.now() < until; )
    pids.push(...(await Promise.all([pidOf(pool), pidOf(pool), pidOf(pool)])));
  expect(new Set(pids).size).toBeGreaterThanOrEqual(4); // two lanes, then two more, at least
  expect(pool.spilled).toBe(0);
  expect(pool.totalCount).toBe(0); // the new lanes took the statements, not pooled connections
  await eventually(async () => (await backends(appName)) <= 2, "the replaced lanes' backends end");
});

it("replaces a lane after maxUses statements, as the pool ends a connection used that often", async () => {
  const { pool } = lanes({ maxUses: 5 });
  const pids: number[] = [];
  for (let n = 0; n < 12; n++) pids.push(await pidOf(pool)); // one at a time: one lane takes each
  const newLaneAt = pids.flatMap((pid, n) => (n > 0 && pid !== pids[n - 1] ? [n] : []));
  expect(newLaneAt).toEqual([5, 10]);
  expect(new Set(pids).size).toBe(3);
});

it("opens no more than a replacement per lane while replaced lanes drain: a burst with a small maxUses spills to the pool", async () => {
  const { pool, appName } = lanes({ maxUses: 3 });
  let peak = 0;
  let watching = true;
  const watch = (async () => {
    while (watching) {
      peak = Math.max(peak, await backends(appName));
      await sleep(5);
    }
  })();
  const answers = await Promise.all(
    Array.from({ length: 60 }, (_, n) =>
      pool.query("SELECT pg_sleep(0.05), $1::int AS n", [n]).then((r) => r.rows[0].n),
    ),
  );
  watching = false;
  await watch;
  expect(answers).toEqual(Array.from({ length: 60 }, (_, n) => n));
  expect(peak).toBeLessThanOrEqual(2 * 2 + 4); // the lanes, their replacements, the pool's max
});

it("keeps `min` lanes open through idleTimeoutMillis, as the pool keeps `min` connections", async () => {
  const { pool } = lanes({ min: 1, idleTimeoutMillis: 300 });
  await Promise.all([pidOf(pool), pidOf(pool), pidOf(pool)]);
  expect(pool.laneConnections).toBe(2);
  await eventually(() => pool.laneConnections === 1, "the lane above min closes");
  await sleep(900);
  expect(pool.laneConnections).toBe(1);
});

it("lets the process exit with its lanes idle when allowExitOnIdle is set, as the pool's idle connections do", async () => {
  const script = new URL("./test-support/idle-exit.ts", import.meta.url);
  const started = Date.now();
  const { stdout } = await run(process.execPath, [script.pathname, url()], { timeout: 20_000 });
  const [answered, exited] = stdout.trim().split("\n");
  expect(JSON.parse(answered as string)).toEqual({ lanes: 2, answered: 3 });
  expect(exited).toBe("exited");
  expect(Date.now() - started).toBeLessThan(10_000); // not held until idleTimeoutMillis (60 s)
});
