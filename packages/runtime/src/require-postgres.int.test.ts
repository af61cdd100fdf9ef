// A service's start against a Postgres that is not there yet, swallows packets, or refuses the
// database: it waits as long as asked, logs each attempt, and fails naming where it looked.
import { getPostgres, tcpProxy } from "@layover/testing";
import pino from "pino";
import { afterEach, expect, it } from "vitest";
import { postgresWhere, requirePostgres } from "./require-postgres.ts";

/** A logger whose lines a test reads. */
function capturing() {
  const lines: Record<string, unknown>[] = [];
  const logger = pino({ level: "warn" }, { write: (line: string) => lines.push(JSON.parse(line)) });
  return { logger, lines };
}

const proxies: Awaited<ReturnType<typeof tcpProxy>>[] = [];
afterEach(async () => {
  for (const proxy of proxies.splice(0)) await proxy.close();
});

async function proxy() {
  const made = await tcpProxy(await getPostgres());
  proxies.push(made);
  return made;
}

it("waits for a Postgres that comes up during the wait, logging each refused attempt", async () => {
  const down = await proxy();
  down.cut();
  const { logger, lines } = capturing();
  setTimeout(() => down.restore(), 1_200);
  await requirePostgres(down.url, 10_000, logger);
  expect(lines.length).toBeGreaterThan(0);
  expect(lines[0]).toMatchObject({ msg: "Postgres not reachable yet; retrying", attempt: 1 });
  expect(lines[0]?.postgres).toBe(postgresWhere(down.url));
});

it("fails after its wait on a host that swallows packets, naming it and DATABASE_URL", async () => {
  const silent = await proxy();
  silent.freeze();
  const started = Date.now();
  const failed = await requirePostgres(silent.url, 1_500).catch((error: unknown) => error);
  const port = new URL(silent.url).port;
  expect(failed).toMatchObject({
    code: "INVALID_CONFIG",
    message: expect.stringContaining(`Postgres at 127.0.0.1:${port}/`),
  });
  expect((failed as Error).message).toContain("could not be reached within 1.5 s");
  expect((failed as Error).message).toContain("DATABASE_URL");
  // Each attempt waits no longer than what is left of the wait (a pool's connect takes 10 s).
  expect(Date.now() - started).toBeLessThan(5_000);
});

it("fails at once on a database or role that does not exist, without retrying or showing the password", async () => {
  const url = new URL(await getPostgres());
  url.pathname = "/layover_no_such_database";
  url.password = "s3cret-pw";
  const { logger, lines } = capturing();
  const failed = await requirePostgres(url.toString(), 10_000, logger).catch((error: unknown) => error);
  expect(failed).toMatchObject({
    code: "INVALID_CONFIG",
    message: expect.stringContaining('database "layover_no_such_database" does not exist'),
  });
  expect((failed as Error).message).toContain("Check DATABASE_URL");
  expect((failed as Error).message).not.toContain("s3cret-pw");
  expect(lines).toEqual([]);
});

it("waits for a host whose name does not resolve yet (a service being created), then names it", async () => {
  const started = Date.now();
  const failed = await requirePostgres("postgres://app:pw@layover-db-not-yet.invalid:5432/app", 1_500).catch(
    (error: unknown) => error,
  );
  expect(failed).toMatchObject({
    code: "INVALID_CONFIG",
    message: expect.stringContaining(
      "Postgres at layover-db-not-yet.invalid:5432/app could not be reached within 1.5 s",
    ),
  });
  expect(Date.now() - started).toBeGreaterThanOrEqual(1_000);
});
