// The scheduler's watch of its schedules (a timer every reconcile interval) while Postgres is
// away: it says so once, and once more when it can check again — not an error per interval for as
// long as the outage lasts.
import { createScheduler } from "@layover/scheduler";
import { tcpProxy } from "@layover/testing";
import pino from "pino";
import { afterAll, beforeAll, expect, it } from "vitest";
import { createHarness, type Harness } from "./support/harness.ts";
import { until } from "./support/until.ts";

let h: Harness;
beforeAll(async () => {
  h = await createHarness("schedules_watch_outage");
}, 60_000);
afterAll(async () => {
  await h?.close();
});

it("logs a Postgres outage once while it lasts, and that it checks again after", async () => {
  const proxy = await tcpProxy(h.databaseUrl);
  const lines: Array<{ level: number; msg: string }> = [];
  const logger = pino({ level: "info" }, { write: (line: string) => void lines.push(JSON.parse(line)) });
  const scheduler = createScheduler({
    ...h.deployment,
    databaseUrl: proxy.url,
    schedulerId: "watch",
    reconcileEveryMs: 100,
    logger,
  });
  const about = (text: string) => lines.filter((line) => line.msg.includes(text));
  try {
    await scheduler.start();
    proxy.cut();
    await until(
      () => about("could not check the scheduler's schedules").length > 0,
      10_000,
      "no failed check",
    );
    // Ten intervals and more of the outage.
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    expect(about("could not check the scheduler's schedules")).toHaveLength(1);
    proxy.restore();
    await until(() => about("checks the scheduler's schedules again").length > 0, 10_000, "no recovery said");
    expect(about("could not check the scheduler's schedules")).toHaveLength(1);
  } finally {
    await scheduler.close();
    await proxy.close();
  }
}, 30_000);
